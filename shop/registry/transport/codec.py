"""msgspec encoding of Protocol calls: arguments decoded strictly from the method's type hints."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable
from types import ModuleType
from typing import Any

import msgspec

from shop import kernel
from shop.kernel.errors import DomainError
from shop.kernel.problems import RESERVED_MEMBERS

encoder = msgspec.json.Encoder()


def public_methods(protocol: type[Any]) -> dict[str, Callable[..., Any]]:
    """Exactly the methods the Protocol declares: the only ones the transport exposes."""
    return {
        name: member
        for name, member in vars(protocol).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


# Memo tables rather than functools.cache, whose wrapper mypy types as taking only Hashable.
_arguments_types: dict[tuple[type[Any], str], type[msgspec.Struct]] = {}
_return_types: dict[tuple[type[Any], str], Any] = {}
_error_classes: dict[type[Any], dict[tuple[str, str], type[DomainError]]] = {}


def arguments_type(protocol: type[Any], method: str) -> type[msgspec.Struct]:
    """A msgspec Struct mirroring the method's keyword parameters (built once per method)."""
    key = (protocol, method)
    if key not in _arguments_types:
        _arguments_types[key] = _build_arguments_type(protocol, method)
    return _arguments_types[key]


def _build_arguments_type(protocol: type[Any], method: str) -> type[msgspec.Struct]:
    func = public_methods(protocol)[method]
    hints = typing.get_type_hints(func)
    fields: list[Any] = []
    for name, param in inspect.signature(func).parameters.items():
        if name == "self":
            continue
        if param.default is inspect.Parameter.empty:
            fields.append((name, hints[name]))
        else:
            fields.append((name, hints[name], param.default))
    return msgspec.defstruct(f"{protocol.__name__}.{method}.Args", fields, kw_only=True, forbid_unknown_fields=True)


def return_type(protocol: type[Any], method: str) -> Any:
    key = (protocol, method)
    if key not in _return_types:
        _return_types[key] = typing.get_type_hints(public_methods(protocol)[method]).get("return", Any)
    return _return_types[key]


def encode_arguments(protocol: type[Any], method: str, kwargs: dict[str, Any]) -> bytes:
    """Bind ``kwargs`` to the method's parameters first, so a wrong call fails on the caller's side
    with the ``TypeError`` a local call would raise, and defaults travel explicitly."""
    return encoder.encode(arguments_type(protocol, method)(**kwargs))


def decode_arguments(protocol: type[Any], method: str, body: bytes) -> dict[str, Any]:
    args_type = arguments_type(protocol, method)
    decoded = msgspec.json.decode(body or b"{}", type=args_type, strict=True)
    return {name: getattr(decoded, name) for name in args_type.__struct_fields__}


def decode_result(protocol: type[Any], method: str, body: bytes) -> Any:
    return msgspec.json.decode(body, type=return_type(protocol, method), strict=True)


def _errors_in(module: ModuleType) -> dict[tuple[str, str], type[DomainError]]:
    return {
        (obj.code, obj.resource): obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, DomainError)
    }


def error_classes(protocol: type[Any]) -> dict[tuple[str, str], type[DomainError]]:
    """Errors a context may answer with, by ``(code, resource)``: the kernel's generic errors, then its
    own api module's (one ``not_found`` code, told apart by the resource it names)."""
    if protocol not in _error_classes:
        classes = _errors_in(kernel.errors)
        classes.update(_errors_in(sys.modules[protocol.__module__]))
        _error_classes[protocol] = classes
    return _error_classes[protocol]


def error_from_problem(protocol: type[Any], problem: dict[str, Any]) -> DomainError:
    code = str(problem.get("code", "domain_error"))
    classes = error_classes(protocol)
    cls = classes.get((code, str(problem.get("resource", "")))) or classes.get((code, ""))
    if cls is None:
        # An error newer than our copy of the contract: keep its code and status visible.
        cls = type("UnknownRemoteError", (DomainError,), {"code": code, "status": int(problem.get("status", 400))})
    extra = {k: v for k, v in problem.items() if k not in RESERVED_MEMBERS}
    return cls(problem.get("detail"), **extra)
