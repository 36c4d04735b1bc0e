"""Typed settings of a training run, declared once: the Python API takes them, ``run.json`` stores them and the
command line builds its flags from them (``cli/settings_flags.py``), so a name or a default cannot differ.

Each setting is a dataclass field made by :func:`setting`, whose metadata carries its help text, the architectures
it applies to, whether ``run.json`` keeps it (the folder, device and worker count belong to one invocation, not to
the run) and, for the few not written as plain numbers or words, how to read it from text. The flag of a field is
its name with dashes (``lr_d`` -> ``--lr-d``). No torch here: ``--help`` must stay fast.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from MedGANSynthLib.errors import InputError

MAX_SEED = 2**63 - 1  # seeds go to numpy's SeedSequence and torch.manual_seed
Settings = TypeVar("Settings", bound="TrainingSettings")


def setting(default: Any, help: str, *, architectures: tuple[str, ...] = (), stored: bool = True,
            choices: tuple[str, ...] = (), metavar: str | None = None, parse: Callable[[str], Any] | None = None,
            flags: tuple[str, ...] = (), required: bool = False, note: str = "",
            run_file_names: tuple[str, ...] = ()) -> Any:
    """A settings field. ``architectures``: the ones it applies to (empty: all); ``stored``: kept in run.json;
    ``parse``: text -> value for fields that are not int/float/str/bool; ``note``: said when it is refused for
    another architecture; ``run_file_names``: older run.json names of the field."""
    return dataclasses.field(default=default, metadata={
        "help": help, "architectures": architectures, "stored": stored, "choices": choices, "metavar": metavar,
        "parse": parse, "flags": flags, "required": required, "note": note, "run_file_names": run_file_names})


def flag_name(field: dataclasses.Field) -> str:
    """The command-line flag of a settings field: its long flag, by default its name with dashes."""
    long_flags = [flag for flag in field.metadata.get("flags", ()) if flag.startswith("--")]
    return long_flags[0] if long_flags else "--" + field.name.replace("_", "-")


def value_type(cls: type, field: dataclasses.Field) -> type:
    """int, float, str or bool: the field's type without ``| None`` (fields with ``parse`` read their own)."""
    hint = typing.get_type_hints(cls)[field.name]
    options = [option for option in typing.get_args(hint) if option is not type(None)] or [hint]
    return options[0] if options[0] in (int, float, str, bool) else str


def value_from_text(cls: type, name: str, text: str) -> Any:
    """The value of field ``name`` written as ``text`` (a flag's argument or --set's VALUE); ValueError if bad."""
    field = settings_field(cls, name)
    if text.strip().lower() == "none" and field.default is None:
        return None
    if field.metadata.get("parse"):
        return field.metadata["parse"](text)
    kind = value_type(cls, field)
    if kind is bool:
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if text.strip().lower() not in words:
            raise ValueError(f"'{text}' is not true or false")
        return words[text.strip().lower()]
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"'{text}' is not {'a whole number' if kind is int else 'a number'}") from None
    choices = field.metadata.get("choices")
    if choices and value not in choices:
        raise ValueError(f"'{text}' is not one of {', '.join(choices)}")
    return value


def settings_field(cls: type, name: str) -> dataclasses.Field:
    for field in fields(cls):
        if field.name == name:
            return field
    raise InputError(f"Unknown setting '{name}'; valid keys: {', '.join(f.name for f in fields(cls))}.")


def settings_from_assignments(cls: type, assignments: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` texts (--set) as typed values; one line naming the valid keys for an unknown one."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, separator, text = assignment.partition("=")
        key = key.strip().replace("-", "_")
        if not separator or not key:
            raise InputError(f"--set takes KEY=VALUE (e.g. --set lr=1e-4), got '{assignment}'.")
        field = settings_field(cls, key)
        try:
            values[key] = value_from_text(cls, key, text)
        except ValueError as error:
            raise InputError(f"--set {key}: {error} (like {flag_name(field)}).") from None
    return values


def parse_low_high(text: str, name: str = "--window") -> list[float]:
    """'LOW,HIGH' (e.g. '0,10' or '-160,240') as [low, high] with low below high."""
    match = re.fullmatch(r"\s*(-?[\d.]+(?:e-?\d+)?)\s*,\s*(-?[\d.]+(?:e-?\d+)?)\s*", text)
    if not match:
        raise InputError(f"{name} must look like LOW,HIGH (e.g. 0,10), got '{text}'.")
    low, high = float(match.group(1)), float(match.group(2))
    if not low < high:
        raise InputError(f"{name} needs LOW below HIGH, got '{text}'.")
    return [low, high]


def parse_seed(text: str) -> int:
    """A seed written as text: a whole number from 0 to 2**63 - 1 (ValueError otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number") from None
    _check_seed(value, ValueError)
    return value


def _check_seed(value: int, error: type[Exception]) -> None:
    if not 0 <= value <= MAX_SEED:
        raise error(f"a seed must be from 0 to {MAX_SEED} (2**63 - 1), got {value}")


@dataclass
class TrainingSettings:
    """What every training run takes: where it lives, its seed and checkpoints, and where it runs."""

    output: str = setting("", "run folder (created; holds checkpoints, pictures and weights)", stored=False,
                          flags=("-o", "--output"), required=True)
    seed: int = setting(0, "random seed (default 0)", parse=parse_seed)
    checkpoint_every: int = setting(1, "epochs between checkpoints (default 1)")
    device: str = setting("auto", "auto, cpu, cuda, cuda:N or mps (default auto)", stored=False)
    checkpoint_steps: int = setting(0, "also checkpoint every N steps inside an epoch, so a killed run loses at most "
                                    "N steps (default 0: at epoch ends only); may be given or changed with --resume",
                                    stored=False)
    workers: int = setting(0, "data-loading worker processes (default 0)", stored=False)

    KIND: ClassVar[str] = "training"
    RESUME_MAY_CHANGE: ClassVar[tuple[str, ...]] = ("epochs", "lr")
    """Stored settings a resumed run may change (the ones not stored may always change)."""

    def to_run_file(self) -> dict[str, Any]:
        """The stored fields, as run.json keeps them."""
        return {field.name: getattr(self, field.name) for field in fields(self) if field.metadata.get("stored", True)}

    @classmethod
    def from_run_file(cls: type[Settings], saved: Mapping[str, Any], **invocation: Any) -> Settings:
        """The settings of a run.json (today's or an older one: absent keys take their defaults, renamed keys
        their old names); ``invocation`` gives the fields run.json does not keep (output, device, ...)."""
        values = dict(invocation)
        for field in fields(cls):
            if not field.metadata.get("stored", True):
                continue
            for key in (field.name, *field.metadata.get("run_file_names", ())):
                if key in saved:
                    values[field.name] = saved[key]
                    break
        return cls(**values)

    def given(self) -> dict[str, Any]:
        """The stored fields not at their defaults: what a resume is asked to change."""
        return {field.name: getattr(self, field.name) for field in fields(self)
                if field.metadata.get("stored", True) and getattr(self, field.name) != field.default}

    def resumed_from(self: Settings, saved: Settings, recorded: Collection[str]) -> Settings:
        """The saved run's settings with this one's given fields, refusing a change to what defines the run (its
        networks and data): only RESUME_MAY_CHANGE may differ. ``recorded``: the keys of the run.json; a field an
        older run.json did not record cannot be compared and keeps the saved value. The fields run.json does not
        keep come from here."""
        given = {name: value for name, value in self.given().items()
                 if name in self.RESUME_MAY_CHANGE or _recorded(settings_field(type(self), name), recorded)}
        refused = [flag_name(settings_field(type(self), name)) for name, value in given.items()
                   if name not in self.RESUME_MAY_CHANGE and value != getattr(saved, name)]
        if refused:
            allowed = ", ".join(flag_name(settings_field(type(self), n)) for n in self.RESUME_MAY_CHANGE)
            raise InputError(f"--resume continues the run with the settings in its run.json; leave out "
                             f"{', '.join(refused)} (a resume may change only {allowed}).")
        return dataclasses.replace(saved, **given, **self.invocation())

    def check_run_options(self) -> None:
        """The checks every training run shares (a fresh run and a resume alike); one line naming the flag."""
        try:
            _check_seed(self.seed, InputError)
        except InputError as error:
            raise InputError(f"--seed: {error}.") from None
        check_range(("--checkpoint-every", self.checkpoint_every, 1, None),
                    ("--checkpoint-steps", self.checkpoint_steps, 0, None), ("--workers", self.workers, 0, None),
                    ("--epochs", getattr(self, "epochs", None), 1, None))  # every family has epochs and lr
        check_positive(("--lr", getattr(self, "lr", None)))

    def invocation(self) -> dict[str, Any]:
        """The fields run.json does not keep (they belong to this invocation of the run)."""
        return {field.name: getattr(self, field.name) for field in fields(self)
                if not field.metadata.get("stored", True)}

    @property
    def run_dir(self) -> Path:
        if not self.output:
            raise InputError("Pass -o/--output, the run folder.")
        return Path(self.output)


def _recorded(field: dataclasses.Field, recorded: Collection[str]) -> bool:
    return any(name in recorded for name in (field.name, *field.metadata.get("run_file_names", ())))


def check_run_folder(run_dir: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse to start over an existing run unless asked to, and the contradiction of --resume with --overwrite."""
    from MedGANSynthLib.training.checkpoint import checkpoint_path

    if not resume and not overwrite and checkpoint_path(run_dir).exists():
        raise InputError(f"-o/--output '{run_dir}' already holds a training run; pass --resume to continue it, "
                         "--overwrite to start afresh, or choose a new folder.")
    if overwrite and resume:
        raise InputError("--overwrite starts the run afresh and --resume continues it; pass one of them.")


def check_range(*checks: tuple[str, float | None, float | None, float | None]) -> None:
    """Refuse the first (flag, value, lowest, highest) whose value was given and lies outside [lowest, highest]
    (NaN included): one line naming the flag."""
    for name, value, lowest, highest in checks:
        if value is None:
            continue
        if lowest is not None and not value >= lowest:
            rule = "be at least 1" if lowest == 1 else "be 0 or more" if lowest == 0 else f"be at least {lowest}"
            raise InputError(f"{name} must {rule} (got {value}).")
        if highest is not None and not value <= highest:
            raise InputError(f"{name} must be at most {highest} (got {value}).")


def check_positive(*checks: tuple[str, float | None]) -> None:
    """Refuse a given value that is not above 0 (NaN included)."""
    for name, value in checks:
        if value is not None and not value > 0:
            raise InputError(f"{name} must be positive (got {value}).")


def refuse_other_architecture_options(settings: TrainingSettings, architecture: str,
                                      names: Mapping[str, str]) -> None:
    """One line for a setting given (not at its default) for an architecture it does not apply to; ``names``:
    architecture -> the name to say (e.g. ``{"ct_gan": "CT GAN"}``)."""
    for field in fields(settings):
        applies_to = field.metadata.get("architectures", ())
        if applies_to and architecture not in applies_to and getattr(settings, field.name) != field.default:
            note = field.metadata.get("note")
            raise InputError(f"{flag_name(field)} is a {' and '.join(names[a] for a in applies_to)} option"
                             f"{'; ' + note if note else ''}.")


def settings_argv(settings: TrainingSettings) -> list[str]:
    """Command-line flags that rebuild ``settings`` in a child process (only those that differ from the defaults),
    so a caller that must start training as ``medgansynth train ...`` never writes a flag name by hand."""
    argv: list[str] = []
    for field in fields(settings):
        value = getattr(settings, field.name)
        if value == field.default:
            continue
        if value_type(type(settings), field) is bool and not field.metadata.get("parse"):
            if value:
                argv.append(flag_name(field))
            continue
        text = ",".join(f"{v!r}" for v in value) if isinstance(value, (list, tuple)) else \
            repr(value) if isinstance(value, float) else str(value)
        argv.append(f"{flag_name(field)}={text}")  # '=': a value may start with '-' (e.g. --window=-160,240)
    return argv


def read_settings(cls: type[Settings], output: str | Path, required: Iterable[str], **invocation: Any) -> Settings:
    """The settings of the run in ``output`` (its run.json, also one written by an older version, which must hold
    the ``required`` keys), e.g. to resume it with some changed; ``invocation``: device, workers, ..."""
    from MedGANSynthLib.training.run_file import read_run_file

    saved = read_run_file(Path(output), required, cls.KIND)
    return cls.from_run_file(saved, output=str(output), **invocation)
