// End to end from real editors installed from Debian (scripts/setup.sh installs them, CI has them):
// Neovim 0.7's built-in client (`nvim --headless`) and Emacs 28 with eglot (`emacs --batch`). Each
// opens a test file, reads the diagnostic the server publishes, types `snap:` (an incremental change
// sent by the editor itself) and asks for completion there.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API } from '@provium/types';
import { afterAll, expect, test } from 'vitest';
import { CLI_BIN, makeProject, SERVER_BIN } from './helpers/lsp-client.js';
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
afterAll(() => project.cleanup());

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
}

/** Runs an editor that writes what it saw as JSON to $OUT. */
function runEditor(cmd: string, args: string[], script: { name: string; text: string }): EditorResult {
  const scriptPath = join(project.dir, script.name);
  const out = join(project.dir, `${script.name}.json`);
  writeFileSync(scriptPath, script.text);
  const r = spawnSync(cmd, args.map((a) => a.replace('$SCRIPT', scriptPath)), {
    cwd: project.dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HOME: project.dir, PROJ: project.dir, FILE: join(project.dir, 'tests/editor.test.lua'), OUT: out, NODE: process.execPath, CLI: CLI_BIN, SERVER: SERVER_BIN },
  });
  let text: string;
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    throw new Error(`${cmd} wrote no result (status ${r.status}, signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return JSON.parse(text) as EditorResult;
}

const NVIM_SCRIPT = String.raw`
local result = {}
local ok, err = pcall(function()
  local id = vim.lsp.start_client({
    name = 'provium',
    cmd = { vim.env.NODE, vim.env.CLI, 'lsp', '--stdio' },
    root_dir = vim.env.PROJ,
    init_options = { diagnosticsDelay = 0 },
  })
  assert(id, 'vim.lsp.start_client failed')
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.FILE))
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.lsp.buf_attach_client(buf, id), 'buf_attach_client failed')
  assert(vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20), 'no diagnostics within 20 s')
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(result.diagnostics, { line = d.lnum, col = d.col, message = d.message })
  end
  -- Type a new line "  snap:" below "local snap = ...": Neovim sends it as an incremental change.
  vim.api.nvim_buf_set_lines(buf, 4, 4, false, { '  snap:' })
  local res, rerr = vim.lsp.buf_request_sync(buf, 'textDocument/completion',
    { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 4, character = 7 } }, 20000)
  assert(res, 'completion: ' .. tostring(rerr))
  result.completion = {}
  for _, r in pairs(res) do
    assert(not r.err, 'completion error: ' .. vim.inspect(r.err))
    for _, item in ipairs(r.result.items or r.result) do table.insert(result.completion, item.label) end
  end
end)
if not ok then result.error = tostring(err) end
local f = assert(io.open(vim.env.OUT, 'w'))
f:write(vim.json.encode(result))
f:close()
vim.cmd('qall!')
`;

test(`Neovim (nvim --headless, vim.lsp.start_client): a diagnostic, then completion after snap:${skipReason('nvim', 'neovim')}`, { skip: !installed('nvim') }, () => {
  const r = runEditor('nvim', ['--headless', '--clean', '-i', 'NONE', '-u', 'NONE', '-c', 'luafile $SCRIPT'], { name: 'e2e.lua', text: NVIM_SCRIPT });
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
