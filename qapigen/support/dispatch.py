"""Turning one decoded QMP request into its response, as QEMU does.

The rules are QEMU's (``qmp_dispatch``, the monitor's negotiation mode and
``qmp_capabilities``): the request object is checked member by member,
negotiation must come first, unknown, disabled and policy-refused commands
get ``CommandNotFound``, arguments are decoded by the generated validators,
and the reply echoes ``id`` whenever the request had one.

A generated package supplies the command table (:class:`CommandSpec` per
command) and a handler object; the dispatcher itself is schema-agnostic.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import msgspec
from orjson import loads as _loads

from qapigen.support import fastpath
from qapigen.support.errors import QMPError
from qapigen.support.fastpath import FAST_ERRORS
from qapigen.support.policy import DEFAULT_POLICY, CompatPolicy, policy_in_force, visible_schema
from qapigen.support.wire import Path, check_extra, object_
from qapigen.support.wirejson import encode_response, parse

Response = dict[str, Any]

T = TypeVar("T")

#: What a handler returns: the result, or an awaitable of it (async handlers).
Reply: TypeAlias = T | Awaitable[T]


class NotImplementedCommand(Exception):
    """Raised by the generated ``Handlers`` base class for a command the
    user did not implement; answered with ``GenericError``."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What the dispatcher needs to know about one command."""

    name: str
    #: (handlers, decoded arguments) -> result, or an awaitable of it.
    call: Callable[[Any, Any], Any]
    #: Decodes the arguments object: (value, path, name) -> arguments.
    decode: Callable[[object, Path, str], Any]
    #: Encodes the result; None when the command returns ``{}``.
    encode: Callable[[Any], object] | None = None
    success_response: bool = True
    allow_oob: bool = False
    allow_preconfig: bool = False
    coroutine: bool = False
    deprecated: bool = False
    unstable: bool = False
    #: For tools: the handler method, and the QAPI names of the argument
    #: and return types (look them up in the package's ``TYPES``).
    method: str = ""
    arg_type: str | None = None
    ret_type: str | None = None


def no_arguments(value: object, path: Path = "", name: str = "null") -> None:
    """The decoder of a command without arguments: any member is unexpected."""
    check_extra(object_(value, path), frozenset(), path)


@dataclass
class _Call:
    spec: CommandSpec
    args: Any
    request_id: tuple[Any, ...]  # () or (id,)


@dataclass
class Dispatcher:
    """Protocol state and command dispatch for one QMP session.

    ``oob_offered`` is what the greeting advertises; ``disabled`` maps
    disabled command names to an optional reason (QEMU 10.2 semantics).
    Built-in commands: ``qmp_capabilities``, ``query-commands`` and
    ``query-qmp-schema`` (when the schema defines them).
    """

    handlers: Any
    commands: Mapping[str, CommandSpec]
    schema_info: Callable[[], list[dict[str, Any]]] | None = None
    oob_offered: bool = False
    compat: CompatPolicy = DEFAULT_POLICY
    disabled: Mapping[str, str | None] = field(default_factory=dict)
    preconfig: bool = False
    negotiated: bool = False
    oob_enabled: bool = False
    #: The generated package the commands come from (``make_dispatcher``
    #: sets it): with it, ``dispatch_json`` decodes valid requests on
    #: msgspec's fast path.
    package: str = ""

    # -- public API ---------------------------------------------------------

    def dispatch(self, request: object) -> Response | None:
        """The response to *request*, or None when the command sends none
        (``success-response: false``).  Handlers must be synchronous here;
        use :meth:`dispatch_async` for coroutine handlers."""
        return self._run(self._prepare(request))

    async def dispatch_async(self, request: object) -> Response | None:
        """Like :meth:`dispatch`, awaiting handlers that return awaitables."""
        return await self._run_async(self._prepare(request))

    def dispatch_json(self, data: bytes | str) -> bytes | None:
        """:meth:`dispatch` from and to wire bytes: *data* is one JSON text
        (one request), the result the encoded response, or None when the
        command sends none.  Text that is not JSON gets QEMU's
        ``JSON parse error, ...`` reply, without ``id``."""
        response = self._run(self._prepare_json(data))
        return None if response is None else encode_response(response)

    async def dispatch_json_async(self, data: bytes | str) -> bytes | None:
        """:meth:`dispatch_json` awaiting handlers that return awaitables."""
        response = await self._run_async(self._prepare_json(data))
        return None if response is None else encode_response(response)

    def reset(self) -> None:
        """Back to negotiation mode, as for a new connection."""
        self.negotiated = False
        self.oob_enabled = False

    def command_names(self) -> list[str]:
        return [name for name in self.commands if name not in self.disabled]

    # -- running -------------------------------------------------------------

    def _run(self, prepared: Response | _Call) -> Response | None:
        if not isinstance(prepared, _Call):
            return prepared
        try:
            result = self._invoke(prepared)
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise QMPError(
                    f"The command {prepared.spec.name} has an asynchronous handler; "
                    "dispatch it with dispatch_async()"
                )
        except (QMPError, NotImplementedCommand) as err:
            return self._error(_qmp_error(err), prepared.request_id)
        return self._success(prepared, result)

    async def _run_async(self, prepared: Response | _Call) -> Response | None:
        if not isinstance(prepared, _Call):
            return prepared
        try:
            result = self._invoke(prepared)
            if inspect.isawaitable(result):
                result = await result
        except (QMPError, NotImplementedCommand) as err:
            return self._error(_qmp_error(err), prepared.request_id)
        return self._success(prepared, result)

    # -- request checking ---------------------------------------------------

    def _prepare_json(self, data: bytes | str) -> Response | _Call:
        """:meth:`_prepare` from JSON text: the fast path when it takes the
        request, else QEMU's parse and the checks of :meth:`_prepare`."""
        fast = self._prepare_fast(data)
        if fast is not None:
            return fast
        try:
            request = parse(data)
        except QMPError as err:
            return self._error(err, ())
        return self._prepare(request)

    def _prepare_fast(self, data: bytes | str) -> _Call | None:
        """A valid request, decoded by msgspec: the envelope, then the
        arguments with the command's fast decoder
        (:mod:`qapigen.support.fastpath`).  None for anything else (any
        error, exec-oob, no arguments, a non-default compat policy): the
        exact path then decides, and words any error as QEMU does."""
        if self.compat is not DEFAULT_POLICY or not self.package:
            return None
        try:
            envelope = _decode_envelope(data)
        except FAST_ERRORS:
            return None
        if not envelope.arguments:
            return None
        try:
            spec = self._lookup(envelope.execute, False)
        except QMPError:
            return None
        if spec.arg_type is None:
            return None
        decode = fastpath.decoder_in_use(self.package, spec.arg_type)
        if decode is None:
            return None
        try:
            args = decode(envelope.arguments)
        except FAST_ERRORS:
            return None
        if spec.name == "qmp_capabilities":
            try:
                self._negotiate(args)
            except QMPError:
                return None
        request_id = (_loads(bytes(envelope.id)),) if envelope.id else ()
        return _Call(spec, args, request_id)

    def _prepare(self, request: object) -> Response | _Call:
        if not isinstance(request, dict):
            return self._error(QMPError("QMP input must be a JSON object"), ())
        request_id: tuple[Any, ...] = (request["id"],) if "id" in request else ()
        try:
            name, oob = self._check_object(request)
            spec = self._lookup(name, oob)
            with policy_in_force(self.compat):
                args = spec.decode(request.get("arguments", {}), "", "null")
            if name == "qmp_capabilities":
                self._negotiate(args)
        except QMPError as err:
            return self._error(err, request_id)
        return _Call(spec, args, request_id)

    def _check_object(self, request: dict[str, Any]) -> tuple[str, bool]:
        """QEMU's ``qmp_dispatch_check_obj``: members in order."""
        exec_key: str | None = None
        for key, value in request.items():
            if key == "execute" or (key == "exec-oob" and self.oob_enabled):
                if not isinstance(value, str):
                    raise QMPError(f"QMP input member '{key}' must be a string")
                if exec_key is not None:
                    raise QMPError(f"QMP input member '{key}' clashes with '{exec_key}'")
                exec_key = key
            elif key == "arguments":
                if not isinstance(value, dict):
                    raise QMPError("QMP input member 'arguments' must be an object")
            elif key != "id":
                raise QMPError(f"QMP input member '{key}' is unexpected")
        if exec_key is None:
            raise QMPError("QMP input lacks member 'execute'")
        return request[exec_key], exec_key == "exec-oob"

    def _lookup(self, name: str, oob: bool) -> CommandSpec:
        if not self.negotiated and name != "qmp_capabilities":
            raise QMPError(
                "Expecting capabilities negotiation with 'qmp_capabilities'", "CommandNotFound"
            )
        spec = self.commands.get(name)
        if spec is None:
            if name == "qmp_capabilities":
                spec = _BUILTIN_CAPABILITIES
            else:
                raise QMPError(f"The command {name} has not been found", "CommandNotFound")
        self.compat.check_input(
            "command", name, spec.deprecated, spec.unstable, error_class="CommandNotFound"
        )
        if name in self.disabled:
            reason = self.disabled[name]
            raise QMPError(
                f"Command {name} has been disabled" + (f": {reason}" if reason else ""),
                "CommandNotFound",
            )
        if oob and not spec.allow_oob:
            raise QMPError(f"The command {name} does not support OOB")
        if self.preconfig and not spec.allow_preconfig:
            raise QMPError(
                f"The command '{name}' is permitted only after machine initialization "
                "has completed"
            )
        return spec

    def _negotiate(self, args: Any) -> None:
        if self.negotiated:
            raise QMPError(
                "Capabilities negotiation is already complete, command ignored",
                "CommandNotFound",
            )
        wanted = [_capability_name(c) for c in (getattr(args, "enable", None) or [])]
        offered = {"oob"} if self.oob_offered else set()
        refused = [c for c in wanted if c not in offered]
        if refused:
            raise QMPError(f"Capability {', '.join(refused)} not available")
        self.oob_enabled = "oob" in wanted
        self.negotiated = True

    # -- running and answering ---------------------------------------------

    def _invoke(self, call: _Call) -> Any:
        name = call.spec.name
        if name == "qmp_capabilities":
            return None
        if name == "query-commands" and "query-commands" in self.commands:
            return [_Named(n) for n in self.command_names()]
        if name == "query-qmp-schema" and self.schema_info is not None:
            return visible_schema(self.schema_info(), self.compat)
        if call.spec.method and getattr(self.handlers, call.spec.method, None) is None:
            # A handler object that is not a Handlers subclass may simply
            # lack the method: that, too, is "not implemented".
            raise NotImplementedCommand(name)
        return call.spec.call(self.handlers, call.args)

    def _success(self, call: _Call, result: Any) -> Response | None:
        if not call.spec.success_response:
            return None
        if call.spec.name == "query-qmp-schema" and self.schema_info is not None:
            value: object = result
        elif call.spec.encode is None:
            value = {}
        else:
            try:
                # The output policy leaves hidden members out of the reply.
                with policy_in_force(self.compat):
                    value = call.spec.encode(result)
            except Exception as err:  # a handler returned the wrong kind of value
                return self._error(
                    QMPError(f"The command {call.spec.name} returned an invalid value: {err}"),
                    call.request_id,
                )
        response: Response = {"return": value}
        if call.request_id:
            response["id"] = call.request_id[0]
        return response

    @staticmethod
    def _error(err: QMPError, request_id: tuple[Any, ...]) -> Response:
        response: Response = {"error": err.to_wire()}
        if request_id:
            response["id"] = request_id[0]
        return response


@dataclass(frozen=True)
class _Named:
    """A ``CommandInfo`` for query-commands when the schema's own type is
    not at hand: it encodes to ``{"name": ...}``."""

    name: str

    def to_wire(self) -> dict[str, object]:
        return {"name": self.name}


def _capability_name(value: object) -> str:
    to_wire = getattr(value, "to_wire", None)
    return str(to_wire()) if to_wire is not None else str(value)


def _qmp_error(err: QMPError | NotImplementedCommand) -> QMPError:
    """What a failed handler call answers; an unimplemented command is a
    GenericError like any other."""
    if isinstance(err, NotImplementedCommand):
        return QMPError(f"The command {err.command} has not been implemented")
    return err


def _decode_capabilities(value: object, path: Path, name: str) -> Any:
    """Argument decoding for a schema that lacks ``qmp_capabilities``."""
    from qapigen.support import wire

    d = wire.object_(value, path)
    enable = wire.opt_list(d, "enable", path, _capability)
    wire.check_extra(d, frozenset({"enable"}), path)
    return _Capabilities(enable)


def _capability(value: object, path: Path, name: str) -> str:
    from qapigen.support import wire

    text = wire.str_value(value, path, name)
    if text != "oob":
        raise wire.bad_enum(name, text)
    return text


@dataclass(frozen=True)
class _Capabilities:
    enable: list[str] | None


_BUILTIN_CAPABILITIES = CommandSpec(
    name="qmp_capabilities",
    call=lambda handlers, args: None,
    decode=_decode_capabilities,
    allow_preconfig=True,
)


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """A request as the fast path takes it: ``execute``, and optionally
    ``arguments`` and ``id``, kept as raw JSON text."""

    execute: str
    arguments: msgspec.Raw = msgspec.Raw()
    id: msgspec.Raw = msgspec.Raw()


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
