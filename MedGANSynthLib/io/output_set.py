"""The one way every command writes its outputs: all or nothing, never over a folder it was not asked to replace.

    with staged_outputs([OutputTarget(args.output, "folder")], overwrite=args.overwrite) as staged:
        summary = write_everything_into(staged.paths[0])
    summary = staged.final(summary)          # staging paths in the summary -> the final paths

What it guarantees, for a file or a folder alike:

* an existing output is refused unless ``overwrite``; an empty existing folder counts as free (people
  ``mkdir`` first). Overwriting replaces the whole set: the old file or folder goes, no stale file stays;
* a lock file beside each output (``.NAME.medgansynth-lock``, created exclusively, holding the PID) refuses a
  second run into the same place; a lock whose process is dead is stale and taken over;
* everything is written into a hidden staging folder beside the output (same file system, so the final
  move is a rename) and moved into place only when the work returned without an error; an error, Ctrl-C or a
  full disk deletes the staging and leaves the old output as it was. Staging a killed run left behind
  (``.NAME.medgansynth-staging.*``) is deleted by the next run into the same place;
* file-system trouble (not writable, read-only, full, a file where a folder should be) becomes one
  :class:`InputError` naming the command-line option, instead of a traceback.

Resumable training runs cannot be staged (a killed run must keep its checkpoint), so ``in_place=True`` writes
into the output folder itself under the same lock and overwrite rules, and on failure deletes the folder only
if this run created it and ``keep(folder)`` says there is nothing worth resuming.

Library writers inside the staging folder record their own paths (summaries, manifests); :meth:`StagedOutputs.final`
and the rewrite of the staged text files at commit turn those into the final paths.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from MedGANSynthLib.errors import InputError

STAGING_TAG = ".medgansynth-staging."
REPLACED_TAG = ".medgansynth-replaced."
LOCK_TAG = ".medgansynth-lock"
# Staged files whose text may name the staging folder (summaries, manifests, reports); rewritten at commit.
_TEXT_SUFFIXES = (".json", ".csv", ".tsv", ".md", ".html", ".txt")
# Volumes whose header is text before the (compressed) data; MedGANSynth keeps metadata, paths included, there.
_HEADER_END = {".nrrd": b"\n\n", ".nhdr": b"\n\n", ".mha": b"ElementDataFile", ".mhd": b"ElementDataFile"}

# Outputs moved into place since the last reset: the CLI's closing line names them.
_COMMITTED: list[Path] = []


@dataclass(frozen=True)
class OutputTarget:
    path: str | os.PathLike
    kind: Literal["file", "folder"] = "folder"
    option: str = "-o/--output"  # how the user names it on the command line, for the error messages

    @property
    def final(self) -> Path:
        return Path(self.path)


@dataclass
class StagedOutputs:
    targets: tuple[OutputTarget, ...]
    paths: list[Path] = field(default_factory=list)  # where the work writes: staged file or folder per target
    stages: list[Path] = field(default_factory=list)  # the hidden staging folder per target

    def final(self, value: Any) -> Any:
        """``value`` (a summary: dicts, lists, strings, paths) with every staging path replaced by the final one."""
        if isinstance(value, dict):
            return {key: self.final(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.final(item) for item in value)
        if isinstance(value, Path):
            return Path(self.final(str(value)))
        if isinstance(value, str):
            for old, new in self._replacements():
                value = value.replace(old, new)
        return value

    def _replacements(self) -> list[tuple[str, str]]:
        pairs = []
        for target, path in zip(self.targets, self.paths, strict=True):
            # The absolute form first: it contains the relative one.
            pairs.append((str(path.resolve()), str(target.final.resolve())))
            pairs.append((str(path), str(target.final)))
        return pairs


def reset_committed() -> None:
    _COMMITTED.clear()


def committed_outputs() -> list[Path]:
    """The outputs moved into place (or written in place) since :func:`reset_committed`."""
    return list(_COMMITTED)


@contextlib.contextmanager
def staged_output(path: str | os.PathLike, overwrite: bool, kind: Literal["file", "folder"] = "folder",
                  option: str = "-o/--output") -> Iterator[StagedOutputs]:
    """:func:`staged_outputs` for a single output; ``staged.paths[0]`` is where to write."""
    with staged_outputs([OutputTarget(path, kind, option)], overwrite) as staged:
        yield staged


@contextlib.contextmanager
def staged_outputs(targets: Sequence[OutputTarget], overwrite: bool, in_place: bool = False, resume: bool = False,
                   keep: Callable[[Path], bool] | None = None) -> Iterator[StagedOutputs]:
    """Lock, check and stage every target; move all into place when the block returns (see the module doc).

    ``in_place``: write into the output folder itself (resumable runs); ``resume``: it is expected to exist;
    ``keep(folder)``: in place, whether a failed run's folder holds something worth keeping (a checkpoint)."""
    staged = StagedOutputs(tuple(targets))
    locks: list[Path] = []
    created: list[Path] = []  # parent folders this run made
    fresh: list[Path] = []  # in place: output folders that were absent or empty, so a failed run may clear them
    try:
        for target in staged.targets:
            with _setup_errors(target):
                _refuse_enclosing_folder(target)
                created += _make_parents(target)
                locks.append(_acquire_lock(target))
                _remove_stale_staging(target.final)
                existed = _check_existing(target, overwrite or resume)
                if in_place:
                    if existed and overwrite and not resume:
                        _remove(target.final)
                        existed = False
                    if not existed:
                        target.final.mkdir(exist_ok=True)
                        fresh.append(target.final)
                    staged.stages.append(target.final)
                    staged.paths.append(target.final)
                else:
                    stage = Path(tempfile.mkdtemp(prefix=f".{target.final.name}{STAGING_TAG}{os.getpid()}.",
                                                  dir=target.final.parent))
                    staged.stages.append(stage)
                    staged.paths.append(stage if target.kind == "folder" else stage / target.final.name)
        with _as_input_error(staged):
            yield staged
            if not in_place:
                _rewrite_staged_text(staged)
                for target, stage, path in zip(staged.targets, staged.stages, staged.paths, strict=True):
                    _move_into_place(target, stage, path)
        _COMMITTED.extend(target.final for target in staged.targets)
    except BaseException as error:
        _discard(staged, created, fresh, in_place, keep)
        if isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt(_interrupted_message(staged, in_place)) from None
        raise
    finally:
        for lock_file in locks:
            with contextlib.suppress(OSError):
                lock_file.unlink()


# ---- checks and lock ----------------------------------------------------------------------------------------
def _refuse_enclosing_folder(target: OutputTarget) -> None:
    """An output is replaced as a whole, so it must never be the folder one works in, one above it, or home."""
    resolved = target.final.resolve()
    if Path.cwd().resolve().is_relative_to(resolved) or resolved in (Path.home().resolve(), Path(resolved.anchor)):
        raise InputError(f"{target.option} '{target.final}' is the current folder, a folder above it or the home "
                         f"folder, which an output would replace; name a new folder, e.g. {target.option} results.")


def _make_parents(target: OutputTarget) -> list[Path]:
    """Create the missing parent folders; returns them, deepest last, so a failed run can take them back."""
    missing = []
    parent = target.final.absolute().parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{target.option} '{target.final}': '{parent}' is a file, not a folder.")
    for folder in reversed(missing):
        folder.mkdir()
    return list(reversed(missing))


def _lock_path(final: Path) -> Path:
    return final.parent / f".{final.name}{LOCK_TAG}"


def _acquire_lock(target: OutputTarget) -> Path:
    lock = _lock_path(target.final)
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _lock_owner(lock)
            if owner is not None:
                raise InputError(f"{target.option} '{target.final}' is being written by another medgansynth run "
                                 f"({owner}, lock file {lock}); wait for it to finish or choose another "
                                 f"{target.option}.") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # stale: its process is gone
            continue
        with os.fdopen(handle, "w") as stream:
            stream.write(f"{os.getpid()}\n{socket.gethostname()}\n")
        return lock
    raise InputError(f"{target.option} '{target.final}': could not take the lock {lock}; try again.")


def _lock_owner(lock: Path) -> str | None:
    """'PID n' of the live run holding ``lock``; None when the lock is stale (its process ended)."""
    try:
        pid_text, host = (lock.read_text().split("\n") + ["", ""])[:2]
        pid = int(pid_text)
    except (OSError, ValueError):
        return None  # half-written by a run killed at that instant
    if host and host != socket.gethostname():
        return f"PID {pid} on {host}"  # cannot tell whether it lives; assume it does
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return f"PID {pid}"


def _remove_stale_staging(final: Path) -> None:
    """Delete what a killed run left beside ``final``; safe because the caller holds the output's lock."""
    if not final.parent.is_dir():
        return
    staging = (f".{final.name}{STAGING_TAG}", f"..{final.name}{STAGING_TAG}")
    replaced = f".{final.name}{REPLACED_TAG}"
    for entry in final.parent.iterdir():
        if entry.name.startswith(staging):
            _remove(entry)
        elif entry.name.startswith(replaced):
            if final.exists() or final.is_symlink():
                _remove(entry)
            else:  # killed between moving the old output away and the new one in: the old one comes back
                os.replace(entry, final)


def _check_existing(target: OutputTarget, may_exist: bool) -> bool:
    """Refuse an existing output of the wrong kind, or any existing output unless ``may_exist``; True if one
    exists (an empty folder counts as absent for a folder output)."""
    final = target.final
    if not (final.exists() or final.is_symlink()):
        return False
    if target.kind == "folder" and not final.is_dir():
        raise InputError(f"{target.option} '{final}' is a file; a folder is needed there. Choose another "
                         f"{target.option} or delete the file.")
    if target.kind == "file" and final.is_dir():
        raise InputError(f"{target.option} '{final}' is a folder; give a file name.")
    if target.kind == "folder" and not any(final.iterdir()):
        return False
    if not may_exist:
        raise InputError(f"{target.option} '{final}' already exists; pass --overwrite to replace it "
                         f"({'the whole folder' if target.kind == 'folder' else 'the file'}) or choose another "
                         f"{target.option}.")
    return True


# ---- commit and discard -------------------------------------------------------------------------------------
def _rewrite_staged_text(staged: StagedOutputs) -> None:
    """Summaries, manifests and volume headers written in the stage may name it; point them at the final place
    before the move."""
    for stage in staged.stages:
        for file in stage.rglob("*"):
            suffix = file.suffix.lower()
            if not file.is_file():
                continue
            if suffix in _TEXT_SUFFIXES:
                try:
                    text = file.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                updated = staged.final(text)
                if updated != text:
                    file.write_text(updated, encoding="utf-8")
            elif suffix in _HEADER_END:
                _rewrite_volume_header(file, _HEADER_END[suffix], staged)


def _rewrite_volume_header(file: Path, header_end: bytes, staged: StagedOutputs) -> None:
    """Replace staging paths in the text header of an NRRD or MetaImage file; the data after it stay as they are."""
    data = file.read_bytes()
    end = data.find(header_end)
    end = data.find(b"\n", end + len(header_end) - 1) + 1 if end >= 0 else 0
    if end <= 0 or STAGING_TAG.encode() not in data[:end]:
        return
    header = data[:end].decode("utf-8", errors="surrogateescape")
    file.write_bytes(staged.final(header).encode("utf-8", errors="surrogateescape") + data[end:])


def _move_into_place(target: OutputTarget, stage: Path, path: Path) -> None:
    final = target.final
    if target.kind == "file":
        os.replace(path, final)  # atomic, also over an existing file
        shutil.rmtree(stage)
        return
    os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0700 folders; outputs get the usual mode
    if final.is_dir() and not any(final.iterdir()):
        final.rmdir()
    if final.exists():
        aside = final.parent / f".{final.name}{REPLACED_TAG}{os.getpid()}"
        os.replace(final, aside)
        os.replace(stage, final)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(stage, final)


def _discard(staged: StagedOutputs, created: list[Path], fresh: list[Path], in_place: bool,
             keep: Callable[[Path], bool] | None) -> None:
    for stage in staged.stages:
        if in_place and (stage not in fresh or (keep is not None and keep(stage))):
            continue  # an earlier run's folder, or one with something worth resuming
        with contextlib.suppress(OSError):
            if in_place:  # the folder may have been the user's empty one: empty it again
                for child in stage.iterdir():
                    _remove(child)
            else:
                _remove(stage)
    for folder in [*reversed(fresh), *reversed(created)]:  # folders this run made, if now empty
        with contextlib.suppress(OSError):
            folder.rmdir()


def _interrupted_message(staged: StagedOutputs, in_place: bool) -> str:
    names = ", ".join(f"'{target.final}'" for target in staged.targets) or "the output"
    if in_place and any(stage.exists() and any(stage.iterdir()) for stage in staged.stages):
        return f"{names} keeps what was written up to the last checkpoint; continue with --resume."
    return f"nothing was written; {names} is as it was before."


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _setup_errors(target: OutputTarget) -> Iterator[None]:
    """Locking and staging failed: the output's place cannot be written (read-only, not a folder, full...)."""
    try:
        yield
    except OSError as error:
        raise InputError(_os_error_text(error, target)) from error


@contextlib.contextmanager
def _as_input_error(staged: StagedOutputs) -> Iterator[None]:
    """File-system errors while writing the outputs become one line naming the option (and why: full...)."""
    try:
        yield
    except OSError as error:
        target = _target_of(error, staged)
        if target is None:
            raise
        raise InputError(_os_error_text(error, target)) from error
    except RuntimeError as error:  # SimpleITK reports a failed write as RuntimeError
        target = _target_of(error, staged)
        if target is None or not _disk_full(target.final.parent):
            raise
        raise InputError(_os_error_text(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), target)) from error


def _target_of(error: Exception, staged: StagedOutputs) -> OutputTarget | None:
    """The output whose staging folder the failing path lies in (an input that cannot be read is not the
    output's fault); without a path, a full disk or a SimpleITK write error is the first output's."""
    filename = getattr(error, "filename", None)
    for target, stage in zip(staged.targets, staged.stages, strict=False):  # stages: fewer if set-up failed
        if filename is None:
            if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ENOSPC:
                return target
            continue
        if str(Path(os.fsdecode(filename)).absolute()).startswith(str(stage.absolute())):
            return target
    return None


def _os_error_text(error: OSError, target: OutputTarget) -> str:
    reasons = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.ENOTDIR: "a part of the path is a file, not a folder",
               errno.EDQUOT: "the disk quota is used up"}
    reason = reasons.get(error.errno, error.strerror or str(error))
    return f"cannot write {target.option} '{target.final}': {reason}. Choose another {target.option}."


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False
