import type { ClassSpec, FunctionSpec, RecordSpec } from '../schema-types.js';
import { A, fn, opt, p, rf } from './build.js';

// vm:syscall, vm:syscall_async, vm:ioctl and vm:read_mem (docs/syscalls.md), the handle of an
// async call, and their records: kept together, apart from the VM's other methods.

const intArgs = [1, 2, 3, 4, 5, 6].map((i) => opt(`a${i}`, 'any', `Argument ${i}: a number (a float is truncated); anything else is 0${i === 1 ? ' (a table is the spec form)' : ''}.`, '0'));
const SPEC_DOC = '`{args=, bufs=, ptrs=, nested=, timeout=}`: integer arguments, buffers copied into the agent, the argument slot (0..5) each buffer\'s address goes to, and addresses written into buffers.';

/** The two call forms of a syscall method (`vm:`, `worker:`): the spec table, or up to six integers. */
export const callForms = (what: string, returns: string): Pick<FunctionSpec, 'params' | 'returns' | 'overloads'> => ({
  params: [p('nr', 'number', 'The syscall number (x86_64).'), p('spec', 'SyscallSpec', SPEC_DOC)],
  returns,
  overloads: [{ params: [p('nr', 'number', 'The syscall number (x86_64).'), ...intArgs], returns, doc: `${what} with up to six integer arguments (more are ignored).` }],
});

export const vmSyscallMethods: FunctionSpec[] = [
  { name: 'syscall', ...callForms('The call', 'SyscallResult'), status: A,
    doc: 'Makes a system call inside the agent process (its credentials, its address space) and returns `{ret, result, errno, out_bufs}`. A failing call does not raise (`ret = -1`, `errno` set); a call the agent refuses (one that would end, stall or unmap the agent: docs/syscalls.md) raises. A call still blocked after `timeout` (default 10 s) is interrupted: `errno` 4 (EINTR).' },
  { name: 'syscall_async', ...callForms('The call', 'SyscallHandle'), status: A,
    doc: 'Starts the same call on a thread of the agent\'s own and returns at once; `handle:await()` returns the result. No timeout unless the spec gives one; an async call not awaited is interrupted at the end of the test (or file) that made it.' },
  fn('ioctl', [p('fd', 'integer', 'A File\'s id from `file:fd()` (not a guest descriptor).'), p('cmd', 'number', 'The request code.'),
    opt('data', 'bytes', 'Passed by pointer and returned as `out_data`.', '""'), opt('opts', 'IoctlOpts', '`bufs`: auxiliary buffers; `ptr_offsets[i]`: where in `data` the address of `bufs[i]` goes.')],
  'IoctlResult', 'ioctl on an open File: returns `{ret, result, out_data, out_bufs}`; a negative return raises with the OS error, as does an unknown or closed File.', A),
  fn('read_mem', [p('addr', 'number', 'A virtual address in the agent process (e.g. from `vm:syscall(mmap...)`).'), p('len', 'integer', 'Bytes to read, 0..64 MiB.')], 'any',
    'The bytes at `addr` in the agent\'s memory; an unmapped range returns `nil, errno` (EFAULT, 14), and `len` over 64 MiB `nil, 22` (EINVAL).', A),
];

export const syscallHandle: ClassSpec = {
  name: 'SyscallHandle',
  doc: 'A call started with `vm:syscall_async()` or `worker:syscall_async()`.',
  fields: [],
  methods: [fn('await', [], 'SyscallResult', 'Waits for the call to return and gives its result, once: a second `await` raises ("already awaited").', A)],
};

const BUFS = '(bytes|integer)[]';
const BUF_DOC = 'Buffers: bytes copied in, or a size for that many zero bytes (an out buffer). 16 at most, 16 MiB each, 64 MiB together.';

export const syscallRecords: RecordSpec[] = [
  { name: 'SyscallSpec', doc: 'The table form of `vm:syscall()`.', fields: [
    rf('args', 'number[]', 'Up to six integer arguments (more are ignored; floats are truncated).', true, '{}'),
    rf('bufs', BUFS, BUF_DOC, true, '{}'),
    rf('ptrs', 'integer[]', '`ptrs[i]` is the argument slot (0..5: 0 is the first argument) that receives the address of `bufs[i]`.', true, '{}'),
    rf('nested', 'SyscallNested[]', 'Addresses written into buffers (for structs that point at other buffers).', true, '{}'),
    rf('timeout', 'duration', 'Interrupt the call (EINTR) when it has not returned after this long; at most 60 s for `vm:syscall`.', true, '10s for vm:syscall, none for syscall_async'),
  ] },
  { name: 'SyscallNested', doc: 'The address of `bufs[child]`, written into `bufs[parent]` at byte `offset` (1-based buffer numbers).', fields: [
    rf('parent', 'integer', 'The buffer that receives the address.', false), rf('child', 'integer', 'The buffer whose address it is.', false),
    rf('offset', 'integer', 'Byte offset in the parent; the 8 bytes must fit.', false),
  ] },
  { name: 'SyscallResult', doc: 'What a system call returned.', fields: [
    rf('ret', 'number', 'The raw return value (-1 on failure).', false), rf('result', 'number', 'The same number.', false),
    rf('errno', 'integer', 'The error number, 0 on success.', false), rf('out_bufs', 'bytes[]', 'Every buffer after the call, in order.', false),
  ] },
  { name: 'IoctlOpts', doc: 'Auxiliary buffers of `vm:ioctl()`.', fields: [
    rf('bufs', BUFS, BUF_DOC, true, '{}'),
    rf('ptr_offsets', 'integer[]', '`ptr_offsets[i]`: the byte offset in `data` that receives the address of `bufs[i]`.', true, '{}'),
  ] },
  { name: 'IoctlResult', doc: 'What an ioctl returned.', fields: [
    rf('ret', 'number', 'The return value (0 or more).', false), rf('result', 'number', 'The same number.', false),
    rf('out_data', 'bytes', '`data` after the call.', false), rf('out_bufs', 'bytes[]', 'The auxiliary buffers after the call.', false),
  ] },
];
