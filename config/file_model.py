"""Pydantic models for the files people write (catalog, FAQ): strict types, each refusal one line.

A format declares its entries as `FileModel`s and its values with `refused_as`, which puts the
format's own words in place of pydantic's; `first_problem` reads back the first refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]
"""Where a value sits in a file's data: keys and list indexes, as pydantic reports them."""

REFUSED = "refused"
"""The error type of every refusal worded by a format; `refused_as` passes these on unchanged."""
_SHOWN = 40


def refused(problem: str, *, at: Loc = (), key: bool = False) -> PydanticCustomError:
    """A refusal in the format's words; `at` names a field below the model raising it, and `key`
    says the field's key is to blame (one not declared), not its value."""
    # The problem travels in the context, so braces in it (`{ }`, `{placeholder}`) stay as written.
    return PydanticCustomError(REFUSED, "{problem}", {"problem": problem, "at": at, "key": key})


def refused_as(problem: str, **by_error: str) -> WrapValidator:
    """Refuse a value that fails inside with `problem`, or with the text for pydantic's error type.

    The texts are templates over the error's context, ``{input}`` (the value, shortened),
    ``{kind}`` (text, a list, a mapping ...) and ``{length}``. Refusals already worded, and
    those of values nested deeper, pass on unchanged.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as error:
            first = error.errors()[0]
            if first["type"] == REFUSED or first["loc"]:
                raise
            template = by_error.get(first["type"], problem)
            length = len(value) if hasattr(value, "__len__") else 0
            words = template.format(
                **first.get("ctx", {}), input=shown(value), kind=kind(value), length=length
            )
            raise refused(words) from None

    return WrapValidator(validate)


class FileModel(BaseModel):
    """One mapping of a file: strict types, frozen, and no field that is not declared."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    not_a_mapping: ClassVar[str] = "must be a mapping"
    """The refusal when something other than a mapping stands where this model belongs."""

    @classmethod
    def unknown_field(cls, name: str, data: dict[str, Any]) -> str:
        """The refusal of a field the model does not declare; a format words its own."""
        return f"unknown field (known: {', '.join(sorted(cls.field_names()))})"

    @classmethod
    def field_names(cls) -> list[str]:
        """The fields as a file writes them: a field's alias (``zh-Hant``) where it has one."""
        return [field.alias or name for name, field in cls.model_fields.items()]

    @model_validator(mode="before")
    @classmethod
    def _a_mapping_of_known_fields(cls, data: Any) -> Any:
        # Checked before the fields, so a misspelt field is named rather than a missing one.
        if not isinstance(data, dict):
            raise refused(cls.not_a_mapping)
        known = cls.field_names()
        for name in data:
            if name not in known:
                raise refused(cls.unknown_field(str(name), data), at=(str(name),), key=True)
        return data


@dataclass(frozen=True)
class Problem:
    """The first refusal of a validation: where (`loc`), pydantic's error type and the words;
    `key` when the key at `loc` is to blame rather than its value."""

    loc: Loc
    type: str
    words: str
    key: bool = False


def first_problem(error: ValidationError, missing: Callable[[Loc], str]) -> Problem:
    """The first refusal in `error`; `missing(loc)` words a required field that is absent."""
    first = error.errors()[0]
    ctx = first.get("ctx", {})
    loc: Loc = tuple(first["loc"]) + tuple(ctx.get("at", ()))
    if first["type"] == REFUSED:
        return Problem(loc, REFUSED, str(ctx["problem"]), key=bool(ctx.get("key")))
    if first["type"] == "missing":
        return Problem(loc, "missing", missing(loc))
    return Problem(loc, first["type"], first["msg"])  # a type no format words: pydantic's own


def dotted(loc: Loc) -> str:
    """``products[2].name.en`` for ("products", 2, "name", "en")."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def kind(value: object) -> str:
    """How a message names what was written: "a list", "a mapping", "text", "a number" ..."""
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "nothing" if value is None else "text"


def shown(value: object) -> str:
    """A value as a message shows it: its repr, cut short (keeping a string's closing quote)."""
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    closing = "'" if isinstance(value, str) else ""
    return text[: _SHOWN - 3 - len(closing)] + "..." + closing
