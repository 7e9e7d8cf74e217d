// Preloaded with `node --import <this file>` (or NODE_OPTIONS) by the crash harness's power-loss
// mode: records every file-system operation under a root to an append-only journal, one JSON line
// per operation, so that after the child is killed the parent can rewind the tree to what a power
// loss would have left (@faultline/faults' PowerLossModel replays the journal).
// - fsync / fdatasync: the file's whole content is copied to `<journal>.d/<n>` and the line names it;
//   fsyncs (of files and directories) are journaled BEFORE the real call returns: a kill while it
//   runs then counts as synced, an outcome a real power loss allows, never a false alarm.
// - create, mkdir, rename, link, unlink, rmdir: journaled AFTER the real call succeeded. A kill in
//   between loses the line, which is harmless: no directory fsync can follow it.
// No fsync of the journal: the parent survives the kill and the kernel keeps what was written.
// Plain JavaScript, no dependencies: it runs before the child's own code and must stay cheap.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';

const raw = process.env.FAULTLINE_POWER_LOSS;
if (raw) {
  const { root, journal } = JSON.parse(raw);
  const probe = await fsp.open(process.execPath, 'r');
  const realHandleProto = Object.getPrototypeOf(probe);
  await probe.close();
  install(resolve(root), journal, realHandleProto);
}

function install(root, journal, realHandleProto) {
  // Keep the real functions: the journal itself must not be journaled.
  const real = {
    openSync: fs.openSync,
    writeSync: fs.writeSync,
    readFileSync: fs.readFileSync,
    writeFileSync: fs.writeFileSync,
    fstatSync: fs.fstatSync,
    statSync: fs.statSync,
    mkdirSync: fs.mkdirSync,
  };
  const blobs = `${journal}.d`;
  real.mkdirSync(blobs, { recursive: true });
  const out = real.openSync(journal, 'a');
  let seq = 0;
  const inside = (p) => typeof p === 'string' && (p === root || p.startsWith(root + sep));
  const abs = (p) => {
    if (typeof p === 'string') return resolve(p);
    if (Buffer.isBuffer(p)) return resolve(p.toString());
    if (p instanceof URL) return resolve(decodeURIComponent(p.pathname));
    return undefined;
  };
  const line = (op) => {
    real.writeSync(out, `${JSON.stringify({ ...op, pid: process.pid })}\n`);
  };
  const fdPaths = new Map();
  // Journaling must never break the child's own call: a failure is said once on stderr (the parent
  // then rewinds with less knowledge, which loses more, never less).
  let warned = false;
  const safely = (fn) => {
    try {
      fn();
    } catch (error) {
      if (warned) return;
      warned = true;
      process.stderr.write(`@faultline/crash power-loss preload: journaling failed in pid ${process.pid}: ${error}\n`);
    }
  };

  // ---- what each operation journals
  const onOpen = (path, flags, fd) => {
    if (!inside(path)) return;
    fdPaths.set(fd, path);
    const creates =
      typeof flags === 'number' ? (flags & fs.constants.O_CREAT) !== 0 : /[wax+]/.test(String(flags ?? 'r'));
    if (!creates) return;
    const st = real.fstatSync(fd);
    if (st.isFile()) line({ op: 'create', path, ino: st.ino });
  };
  const onSync = (fd) => {
    const path = fdPaths.get(fd);
    if (path === undefined) return;
    const st = real.fstatSync(fd);
    if (st.isDirectory()) return line({ op: 'dirsync', path });
    const blob = join(blobs, `${process.pid}-${++seq}`);
    let data;
    try {
      data = real.readFileSync(`/proc/self/fd/${fd}`);
    } catch {
      data = real.readFileSync(path);
    }
    real.writeFileSync(blob, data);
    line({ op: 'fsync', path, ino: st.ino, blob });
  };
  const onCreated = (path) => {
    if (!inside(path)) return;
    const st = real.statSync(path, { throwIfNoEntry: false });
    if (st?.isFile()) line({ op: 'create', path, ino: st.ino });
  };
  const onMkdir = (path, options, result) => {
    if (!inside(path) && !(typeof result === 'string' && inside(resolve(result)))) return;
    const recursive = typeof options === 'object' && options !== null && options.recursive;
    let chain = [path];
    if (recursive) {
      if (typeof result !== 'string') return;
      const first = resolve(result);
      for (let p = path; p !== first && dirname(p) !== p; p = dirname(p)) chain.unshift(dirname(p));
    }
    chain = chain.filter(inside);
    for (const p of chain) line({ op: 'mkdir', path: p, ino: real.statSync(p).ino });
  };
  const onName = (op, from, to) => {
    if (inside(from) || inside(to)) line({ op, from, to });
  };
  const onGone = (op, path) => {
    if (inside(path)) line({ op, path });
  };

  // ---- node:fs/promises and FileHandle
  const wrapAsync = (obj, name, after) => {
    const fn = obj[name];
    obj[name] = async function (...args) {
      const result = await fn.apply(this, args);
      safely(() => after(args, result));
      return result;
    };
  };
  wrapAsync(fsp, 'open', ([p, flags], handle) => onOpen(abs(p), flags, handle.fd));
  for (const name of ['writeFile', 'appendFile', 'truncate']) wrapAsync(fsp, name, ([p]) => onCreated(abs(p)));
  wrapAsync(fsp, 'copyFile', ([, to]) => onCreated(abs(to)));
  wrapAsync(fsp, 'rename', ([from, to]) => onName('rename', abs(from), abs(to)));
  wrapAsync(fsp, 'link', ([from, to]) => onName('link', abs(from), abs(to)));
  wrapAsync(fsp, 'unlink', ([p]) => onGone('unlink', abs(p)));
  for (const name of ['rm', 'rmdir']) wrapAsync(fsp, name, ([p]) => onGone('rmdir', abs(p)));
  wrapAsync(fsp, 'mkdir', ([p, options], result) => onMkdir(abs(p), options, result));
  wrapAsync(fsp, 'mkdtemp', (_args, result) => onMkdir(resolve(result), undefined, undefined));

  // The FileHandle class is not exported: take its prototype from a handle (opened before wrapping).
  for (const name of ['sync', 'datasync']) {
    const fn = realHandleProto[name];
    realHandleProto[name] = function (...args) {
      if (this.fd >= 0) safely(() => onSync(this.fd));
      return fn.apply(this, args);
    };
  }
  const close = realHandleProto.close;
  realHandleProto.close = function (...args) {
    fdPaths.delete(this.fd);
    return close.apply(this, args);
  };

  // ---- node:fs, synchronous and callback forms
  const wrapSync = (name, after) => {
    const fn = fs[name];
    fs[name] = function (...args) {
      const result = fn.apply(this, args);
      safely(() => after(args, result));
      return result;
    };
  };
  wrapSync('openSync', ([p, flags], fd) => onOpen(abs(p), flags, fd));
  for (const name of ['writeFileSync', 'appendFileSync', 'truncateSync']) wrapSync(name, ([p]) => onCreated(abs(p)));
  wrapSync('copyFileSync', ([, to]) => onCreated(abs(to)));
  wrapSync('renameSync', ([from, to]) => onName('rename', abs(from), abs(to)));
  wrapSync('linkSync', ([from, to]) => onName('link', abs(from), abs(to)));
  wrapSync('unlinkSync', ([p]) => onGone('unlink', abs(p)));
  for (const name of ['rmSync', 'rmdirSync']) wrapSync(name, ([p]) => onGone('rmdir', abs(p)));
  wrapSync('mkdirSync', ([p, options], result) => onMkdir(abs(p), options, result));
  for (const name of ['fsyncSync', 'fdatasyncSync']) {
    const fn = fs[name];
    fs[name] = function (fd, ...rest) {
      safely(() => onSync(fd));
      return fn.call(this, fd, ...rest);
    };
  }
  for (const name of ['fsync', 'fdatasync']) {
    const fn = fs[name];
    fs[name] = function (fd, ...rest) {
      safely(() => onSync(fd));
      return fn.call(this, fd, ...rest);
    };
  }
  // Callback forms (what fs.createWriteStream and older code use): journal once the callback says ok.
  const wrapCallback = (name, after) => {
    const fn = fs[name];
    fs[name] = function (...args) {
      const i = args.findLastIndex((a) => typeof a === 'function');
      if (i >= 0) {
        const cb = args[i];
        const call = args.slice(0, i);
        args[i] = (error, result) => {
          if (!error) safely(() => after(call, result));
          cb(error, result);
        };
      }
      return fn.apply(this, args);
    };
  };
  wrapCallback('open', ([p, flags], fd) => onOpen(abs(p), flags, fd));
  for (const name of ['writeFile', 'appendFile', 'truncate']) wrapCallback(name, ([p]) => onCreated(abs(p)));
  wrapCallback('copyFile', ([, to]) => onCreated(abs(to)));
  wrapCallback('rename', ([from, to]) => onName('rename', abs(from), abs(to)));
  wrapCallback('link', ([from, to]) => onName('link', abs(from), abs(to)));
  wrapCallback('unlink', ([p]) => onGone('unlink', abs(p)));
  for (const name of ['rm', 'rmdir']) wrapCallback(name, ([p]) => onGone('rmdir', abs(p)));
  wrapCallback('mkdir', ([p, options], result) => onMkdir(abs(p), options, result));
  const closeCb = fs.close;
  fs.close = function (fd, ...rest) {
    fdPaths.delete(fd);
    return closeCb.call(this, fd, ...rest);
  };
  const closeSync = fs.closeSync;
  fs.closeSync = function (fd, ...rest) {
    fdPaths.delete(fd);
    return closeSync.call(this, fd, ...rest);
  };
  // ESM named imports of node:fs and node:fs/promises see the wrapped functions from here on.
  syncBuiltinESMExports();
}
