// End to end from real editors installed from Debian (scripts/setup.sh installs them, CI has them):
// Neovim 0.7's built-in client (`nvim --headless`) and Emacs 28 with eglot (`emacs --batch`). Each
// opens a test file, reads the diagnostic the server publishes, types `snap:` (an incremental change
// sent by the editor itself; Neovim also once with full document sync, the whole text per change) and
// asks for completion there.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API } from '@provium/types';
import { afterAll, expect, test } from 'vitest';
import { CLI_BIN, makeProject, REPO, SERVER_BIN } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';

const FILE = [
  'local vm = provium:vm("a", "default"):boot()',
  '',
  'test("snapshot", function(t)',
  '  local snap = vm:snapshot()',
  '  vm:rn("ls")',
  'end)',
  '',
].join('\n');

const project = makeProject({ ...SAMPLE_FILES, 'tests/editor.test.lua': FILE });
// The project's own provium, as `npm install --save-dev provium` leaves it (the set-ups of docs/editors.md prefer it).
mkdirSync(join(project.dir, 'node_modules/.bin'), { recursive: true });
symlinkSync(CLI_BIN, join(project.dir, 'node_modules/.bin/provium'));
// A repository, as eglot's and lsp-mode's project detection expect.
spawnSync('git', ['init', '-q', project.dir]);
afterAll(() => project.cleanup());

/** The snippet of docs/editors.md below `<!-- editors-test: NAME -->`. */
function docSnippet(name: string): string {
  const doc = readFileSync(join(REPO, 'docs/editors.md'), 'utf8');
  const m = doc.match(new RegExp(`<!-- editors-test: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n`));
  if (!m) throw new Error(`docs/editors.md has no snippet marked editors-test: ${name}`);
  return m[1];
}

const SNAPSHOT_METHODS = API.classes.find((k) => k.name === 'Snapshot')!.methods.map((m) => m.name).sort();
const UNKNOWN_RN = "VM has no method 'rn': did you mean 'run'?";

function installed(bin: string): boolean {
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
}
const skipReason = (bin: string, pkg: string) => (installed(bin) ? '' : ` (skipped: ${bin} is not installed; apt-get install ${pkg}, as scripts/setup.sh does)`);

interface EditorResult {
  error?: string;
  diagnostics?: { line: number; col: number; message: string }[];
  completion?: string[];
  /** The server command the editor started (the set-ups of docs/editors.md). */
  cmd?: string[];
  omnifunc?: string;
  server?: string;
}

/** Runs an editor that writes what it saw as JSON to $OUT. */
function runEditor(cmd: string, args: string[], script: { name: string; text: string }, extra?: { name: string; text: string }, env: Record<string, string> = {}): EditorResult {
  const scriptPath = join(project.dir, script.name);
  const out = join(project.dir, `${script.name}.json`);
  writeFileSync(scriptPath, script.text);
  const extraPath = extra ? join(project.dir, extra.name) : '';
  if (extra) writeFileSync(extraPath, extra.text);
  const r = spawnSync(cmd, args.map((a) => a.replace('$SCRIPT', scriptPath).replace('$EXTRA', extraPath)), {
    cwd: project.dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HOME: project.dir, PROJ: project.dir, FILE: join(project.dir, 'tests/editor.test.lua'), OUT: out, NODE: process.execPath, CLI: CLI_BIN, SERVER: SERVER_BIN, ...env },
  });
  let text: string;
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    throw new Error(`${cmd} wrote no result (status ${r.status}, signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return JSON.parse(text) as EditorResult;
}

/** Lua: reads the diagnostics of `buf`, types "  snap:" (an incremental change) and asks for completion there. */
const NVIM_CHECK = String.raw`
local function check(buf, result)
  assert(vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20), 'no diagnostics within 20 s')
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(result.diagnostics, { line = d.lnum, col = d.col, message = d.message })
  end
  -- Type a new line "  snap:" below "local snap = ...": Neovim sends it as an incremental change
  -- (or as the whole text, with allow_incremental_sync = false).
  vim.api.nvim_buf_set_lines(buf, 4, 4, false, { '  snap:' })
  local res, rerr = vim.lsp.buf_request_sync(buf, 'textDocument/completion',
    { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 4, character = 7 } }, 20000)
  assert(res, 'completion: ' .. tostring(rerr))
  result.completion = {}
  for _, r in pairs(res) do
    assert(not r.err, 'completion error: ' .. vim.inspect(r.err))
    for _, item in ipairs(r.result.items or r.result) do table.insert(result.completion, item.label) end
  end
end

local function finish(result)
  local f = assert(io.open(vim.env.OUT, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qall!')
end
`;

const NVIM_SCRIPT = NVIM_CHECK + String.raw`
local result = {}
local ok, err = pcall(function()
  local id = vim.lsp.start_client({
    name = 'provium',
    cmd = { vim.env.NODE, vim.env.CLI, 'lsp', '--stdio' },
    root_dir = vim.env.PROJ,
    init_options = { diagnosticsDelay = 0 },
    -- FULL_SYNC=1: every change is sent as the whole text (contentChanges: [{ text }]).
    flags = { allow_incremental_sync = vim.env.FULL_SYNC ~= '1' },
  })
  assert(id, 'vim.lsp.start_client failed')
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.FILE))
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.lsp.buf_attach_client(buf, id), 'buf_attach_client failed')
  check(buf, result)
end)
if not ok then result.error = tostring(err) end
finish(result)
`;

test(`Neovim (nvim --headless, vim.lsp.start_client): a diagnostic, then completion after snap:${skipReason('nvim', 'neovim')}`, { skip: !installed('nvim') }, () => {
  const r = runEditor('nvim', ['--headless', '--clean', '-i', 'NONE', '-u', 'NONE', '-c', 'luafile $SCRIPT'], { name: 'e2e.lua', text: NVIM_SCRIPT });
  expect(r.error).toBeUndefined();
  expect(r.diagnostics).toContainEqual({ line: 4, col: 5, message: UNKNOWN_RN });
  expect(r.completion!.sort()).toEqual(SNAPSHOT_METHODS);
});

test(`Neovim with full document sync (allow_incremental_sync = false: each change sends the whole text)${skipReason('nvim', 'neovim')}`, { skip: !installed('nvim') }, () => {
  const r = runEditor('nvim', ['--headless', '--clean', '-i', 'NONE', '-u', 'NONE', '-c', 'luafile $SCRIPT'], { name: 'e2e-full.lua', text: NVIM_SCRIPT }, undefined, { FULL_SYNC: '1' });
  expect(r.error).toBeUndefined();
  expect(r.diagnostics).toContainEqual({ line: 4, col: 5, message: UNKNOWN_RN });
  expect(r.completion!.sort()).toEqual(SNAPSHOT_METHODS);
});

const EMACS_SCRIPT = String.raw`;;; -*- lexical-binding: t -*-
(require 'eglot)
(require 'json)
(defvar e2e-root (file-name-as-directory (getenv "PROJ")))
;; No lua-mode needed: any major mode that eglot-server-programs maps to the server.
(define-derived-mode e2e-lua-mode prog-mode "Lua")
(add-to-list 'auto-mode-alist '("\\.lua\\'" . e2e-lua-mode))
(add-to-list 'eglot-server-programs
             (list 'e2e-lua-mode (getenv "NODE") (getenv "SERVER") "--stdio" :initializationOptions '(:diagnosticsDelay 0)))
;; The project is the directory holding provium.toml (a real set-up gets it from version control).
(add-hook 'project-find-functions (lambda (_dir) (cons 'transient e2e-root)))
(defun e2e-wait (pred secs)
  (let ((end (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.05))
    (funcall pred)))
(let ((result nil))
  (condition-case err
      (progn
        (find-file (getenv "FILE"))
        ;; eglot-ensure would wait for the command loop, which --batch never runs.
        (apply #'eglot (eglot--guess-contact))
        (unless (eglot-current-server) (error "eglot did not connect"))
        (unless (e2e-wait (lambda () (flymake-start) (flymake-diagnostics)) 20)
          (error "no diagnostics within 20 s"))
        (push (cons 'diagnostics
                    (mapcar (lambda (d)
                              (save-excursion
                                (goto-char (flymake-diagnostic-beg d))
                                (list (cons 'line (1- (line-number-at-pos)))
                                      (cons 'col (current-column))
                                      (cons 'message (flymake-diagnostic-text d)))))
                            (flymake-diagnostics)))
              result)
        (goto-char (point-min))
        (search-forward "local snap = vm:snapshot()")
        (insert "\n  snap:")
        (eglot--signal-textDocument/didChange)
        (let ((resp (jsonrpc-request (eglot-current-server) :textDocument/completion
                                     (eglot--TextDocumentPositionParams))))
          (push (cons 'completion
                      (mapcar (lambda (it) (plist-get it :label))
                              (if (vectorp resp) resp (plist-get resp :items))))
                result)))
    (error (push (cons 'error (error-message-string err)) result)))
  (with-temp-file (getenv "OUT") (insert (json-encode result)))
  (kill-emacs 0))
`;

test(`Emacs (emacs --batch, eglot): a diagnostic, then completion after snap:${skipReason('emacs', 'emacs-nox elpa-eglot')}`, { skip: !installed('emacs') }, () => {
  // Not -Q: Debian's elpa-eglot is activated by the site start-up files.
  const r = runEditor('emacs', ['--batch', '-l', '$SCRIPT'], { name: 'e2e.el', text: EMACS_SCRIPT });
  expect(r.error).toBeUndefined();
  // flymake prefixes the source and code: "provium [unknown-member]: ..."
  expect(r.diagnostics).toContainEqual({ line: 4, col: 5, message: `provium [unknown-member]: ${UNKNOWN_RN}` });
  expect(r.completion!.sort()).toEqual(SNAPSHOT_METHODS);
});

// The set-ups of docs/editors.md, as written there.

test(`docs/editors.md: the Neovim set-up starts the project's provium for a test file${skipReason('nvim', 'neovim')}`, { skip: !installed('nvim') }, () => {
  const check = NVIM_CHECK + String.raw`
local result = {}
local ok, err = pcall(function()
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.bo[buf].filetype == 'lua', 'filetype is ' .. vim.bo[buf].filetype)
  -- The client is listed once the server has answered initialize.
  vim.wait(20000, function() return next(vim.lsp.buf_get_clients(buf)) ~= nil end, 20)
  local _, client = next(vim.lsp.buf_get_clients(buf))
  assert(client, 'the FileType autocommand attached no client')
  result.cmd = client.config.cmd
  result.omnifunc = vim.bo[buf].omnifunc
  check(buf, result)
end)
if not ok then result.error = tostring(err) end
finish(result)
`;
  const file = join(project.dir, 'tests/editor.test.lua');
  const r = runEditor('nvim', ['--headless', '-i', 'NONE', '-u', '$EXTRA', file, '-c', 'luafile $SCRIPT'], { name: 'check.lua', text: check }, { name: 'init.lua', text: docSnippet('nvim') });
  expect(r.error).toBeUndefined();
  expect(r).toMatchObject({ cmd: [join(project.dir, 'node_modules/.bin/provium'), 'lsp', '--stdio'], omnifunc: 'v:lua.vim.lsp.omnifunc' });
  // The default diagnostics delay (150 ms) applies to edits; opening publishes at once.
  expect(r.diagnostics).toContainEqual({ line: 4, col: 5, message: UNKNOWN_RN });
  expect(r.completion!.sort()).toEqual(SNAPSHOT_METHODS);
});

/** Elisp: after the set-up is loaded, opens the test file, connects, reads diagnostics and completes after snap:. */
const EMACS_DOC_CHECK = (client: string, connect: string, diagnostics: string, complete: string) => String.raw`;;; -*- lexical-binding: t -*-
(require 'json)
;; --batch activates no packages: load lua-mode, or without it (CI has only elpa-eglot) a stand-in of the same name.
(unless (require 'lua-mode nil t) (define-derived-mode lua-mode prog-mode "Lua"))
(add-to-list 'auto-mode-alist '("\\.lua\\'" . lua-mode))
(load (getenv "SETUP") nil t)
;; --batch loads no package autoloads either: the client before the first buffer (its hook calls it).
(require '${client})
(defun e2e-wait (pred secs)
  (let ((end (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.05))
    (funcall pred)))
(let ((result nil))
  (condition-case err
      (progn
        (find-file (getenv "FILE"))
        ${connect}
        (push (cons 'diagnostics ${diagnostics}) result)
        (goto-char (point-min))
        (search-forward "local snap = vm:snapshot()")
        (insert "\n  snap:")
        (push (cons 'completion (mapcar (lambda (it) (if (hash-table-p it) (gethash "label" it) (plist-get it :label))) ${complete})) result))
    (error (push (cons 'error (error-message-string err)) result)))
  (with-temp-file (getenv "OUT") (insert (json-encode result)))
  (kill-emacs 0))
`;

function runEmacsDoc(name: string, script: string): EditorResult {
  const setup = join(project.dir, `${name}-setup.el`);
  writeFileSync(setup, docSnippet(name));
  return runEditor('emacs', ['--batch', '-l', '$SCRIPT'], { name: `${name}-check.el`, text: script }, undefined, { SETUP: setup });
}

test(`docs/editors.md: the eglot set-up starts the project's provium for a test file${skipReason('emacs', 'emacs-nox elpa-eglot')}`, { skip: !installed('emacs') }, () => {
  const r = runEmacsDoc('eglot', EMACS_DOC_CHECK(
    'eglot',
    `(unless (memq #'provium-maybe-eglot lua-mode-hook) (error "the set-up added no lua-mode hook"))
        ;; eglot-ensure (what the hook calls) waits for the command loop, which --batch never runs.
        (apply #'eglot (eglot--guess-contact))
        (unless (eglot-current-server) (error "eglot did not connect"))
        (push (cons 'cmd (process-command (seq-find (lambda (p) (member "--stdio" (process-command p))) (process-list)))) result)
        (unless (e2e-wait (lambda () (flymake-start) (flymake-diagnostics)) 20) (error "no diagnostics within 20 s"))`,
    `(mapcar (lambda (d) (save-excursion (goto-char (flymake-diagnostic-beg d))
                     (list (cons 'line (1- (line-number-at-pos))) (cons 'col (current-column)) (cons 'message (flymake-diagnostic-text d)))))
                   (flymake-diagnostics))`,
    `(progn (eglot--signal-textDocument/didChange)
                  (let ((resp (jsonrpc-request (eglot-current-server) :textDocument/completion (eglot--TextDocumentPositionParams))))
                    (if (vectorp resp) resp (plist-get resp :items))))`,
  ));
  expect(r.error).toBeUndefined();
  expect(r).toMatchObject({ cmd: [join(project.dir, 'node_modules/.bin/provium'), 'lsp', '--stdio'] });
  expect(r.diagnostics).toContainEqual({ line: 4, col: 5, message: `provium [unknown-member]: ${UNKNOWN_RN}` });
  expect(r.completion!.sort()).toEqual(SNAPSHOT_METHODS);
});

const hasLspMode = installed('emacs') && spawnSync('emacs', ['--batch', '--eval', '(kill-emacs (if (locate-library "lsp-mode") 0 1))'], { stdio: 'ignore' }).status === 0;

test(`docs/editors.md: the lsp-mode set-up${hasLspMode ? '' : ' (skipped: lsp-mode is not installed; apt-get install elpa-lsp-mode)'}`, { skip: !hasLspMode }, () => {
  const r = runEmacsDoc('lsp-mode', EMACS_DOC_CHECK(
    'lsp-mode',
    `(setq lsp-auto-guess-root t lsp-enable-file-watchers nil lsp-enable-suggest-server-download nil)
        (unless (memq #'provium-maybe-lsp lua-mode-hook) (error "the set-up added no lua-mode hook"))
        ;; lsp-deferred (what the hook calls) waits for an idle moment, which --batch never has.
        (lsp)
        (unless (e2e-wait (lambda () (and (lsp-workspaces) (eq (lsp--workspace-status (car (lsp-workspaces))) 'initialized))) 20)
          (error "lsp-mode did not connect"))
        (push (cons 'server (symbol-name (lsp--client-server-id (lsp--workspace-client (car (lsp-workspaces)))))) result)
        (unless (e2e-wait (lambda () (gethash (buffer-file-name) (lsp-diagnostics t))) 20) (error "no diagnostics within 20 s"))`,
    `(mapcar (lambda (d) (let ((start (lsp:range-start (lsp:diagnostic-range d))))
                     (list (cons 'line (lsp:position-line start)) (cons 'col (lsp:position-character start)) (cons 'message (lsp:diagnostic-message d)))))
                   (gethash (buffer-file-name) (lsp-diagnostics t)))`,
    `(let ((resp (lsp-request "textDocument/completion" (lsp--text-document-position-params))))
                  (append (if (hash-table-p resp) (gethash "items" resp) resp) nil))`,
  ));
  expect(r.error).toBeUndefined();
  expect(r).toMatchObject({ server: 'provium' });
  expect(r.diagnostics).toContainEqual({ line: 4, col: 5, message: UNKNOWN_RN });
  expect(r.completion!.sort()).toEqual(SNAPSHOT_METHODS);
});
