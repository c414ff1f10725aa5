"""The ``qapigen serve`` command line: QEMU's own options.

A test suite swaps ``qemu-system-x86_64`` (or ``qemu-storage-daemon``) for
``qapigen serve`` without touching its command line, so the options are
QEMU's, in QEMU's syntax, with QEMU's error texts where it matters:

- ``-qmp unix:PATH,server=on,wait=off`` / ``-qmp tcp:HOST:PORT,server=on,...``
  (several allowed; ``server,nowait`` works too), or ``-chardev socket,...``
  plus ``-mon``/``--monitor chardev=ID``;
- ``-blockdev`` in KEY=VALUE syntax or as JSON, decoded by the generated
  package into ``qmp.BlockdevOptions``;
- ``-device DRIVER,drive=NODE,id=ID`` (any driver name);
- ``-machine``, ``-M``, ``-accel``, ``-S``, ``-nodefaults``, ``-display``, ``-m``,
  ``-name`` accepted and ignored (the ``-name`` is kept);
- ``--qmp-log FILE``, our own: every QMP message in and out, one JSON line each;
- ``--x-bitmap-commands``, our own: serve the legacy ``x-`` bitmap commands.

Options may be spelled with one dash or two, as QEMU allows.  Anything
else is an :class:`OptionError` naming the option.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from qapigen.runtime import keyval

if TYPE_CHECKING:
    from qapigen.qmp import BlockdevOptions


class OptionError(Exception):
    """A bad command line; ``str()`` is the one line to print (without the
    program name)."""


@dataclass(frozen=True)
class QMPEndpoint:
    kind: Literal["unix", "tcp"]
    path: str | None = None  # unix
    host: str | None = None  # tcp
    port: int | None = None  # tcp

    def describe(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        return f"tcp:{self.host}:{self.port}"


@dataclass
class DeviceConfig:
    driver: str  # any name, e.g. virtio-blk-pci
    id: str | None
    drive: str | None  # node name the device holds as its root
    #: every property as given (e.g. ``share-rw``), for the block layer
    props: dict[str, Any] = field(default_factory=dict)


T = TypeVar("T")


class OptionList(list[T]):
    """A list that remembers which item an ongoing iteration is at, so that
    an error raised while the machine brings up one ``-blockdev`` or
    ``-device`` can be reported with that option, as QEMU does."""

    current: int = -1

    def __iter__(self) -> Iterator[T]:
        for index, item in enumerate(super().__iter__()):
            self.current = index
            yield item
        self.current = -1


@dataclass
class ServeConfig:
    qmp: list[QMPEndpoint]
    blockdevs: list[BlockdevOptions] = field(default_factory=OptionList)
    devices: list[DeviceConfig] = field(default_factory=OptionList)
    name: str | None = None
    qmp_log: Path | None = None
    #: ``-S``: the guest CPU starts stopped (query-status says prelaunch).
    stopped: bool = False
    #: ``--x-bitmap-commands``, our own: serve the legacy x-block-dirty-bitmap-*
    #: commands and transaction kinds, which QEMU 7.2 no longer knows.
    x_bitmap_commands: bool = False
    #: The -blockdev arguments as given (value, option text), in order;
    #: ``blockdevs`` holds them decoded once :meth:`decode_blockdevs` ran.
    blockdev_args: list[tuple[str, str]] = field(default_factory=list)
    #: The -device options as given, parallel to ``devices``.
    device_args: list[str] = field(default_factory=list)

    def decode_blockdevs(self) -> None:
        """Decode ``blockdev_args`` into ``blockdevs`` (imports the generated
        package; raises :class:`OptionError`)."""
        self.blockdevs = OptionList(
            decode_blockdev(value, shown) for value, shown in self.blockdev_args)

    def option_in_progress(self) -> str | None:
        """The -blockdev or -device option an iteration over ``blockdevs``
        or ``devices`` is at (see :class:`OptionList`), for messages."""
        for items, shown in ((self.devices, self.device_args),
                             (self.blockdevs, [s for _, s in self.blockdev_args])):
            index = getattr(items, "current", -1)
            if 0 <= index < len(shown):
                return shown[index]
        return None


#: Options that take an argument and are accepted and ignored.
_IGNORED_WITH_ARG = frozenset({"machine", "M", "accel", "display", "m"})
#: Options without an argument, accepted and ignored.
_IGNORED_FLAGS = frozenset({"S", "nodefaults", "no-shutdown", "no-user-config"})
_WITH_ARG = frozenset({"qmp", "blockdev", "device", "name", "chardev", "mon", "monitor",
                       "qmp-log"}) | _IGNORED_WITH_ARG


@dataclass
class _Chardev:
    option: str  # the option as given, for messages
    endpoint: QMPEndpoint


def parse_argv(argv: Sequence[str], *, decode: bool = True) -> ServeConfig:
    """Parse the command line; raises :class:`OptionError`.  With
    ``decode=False`` the -blockdev arguments are only kept (see
    :meth:`ServeConfig.decode_blockdevs`), so nothing heavy is imported."""
    config = ServeConfig(qmp=[])
    raw_blockdevs: list[tuple[str, str]] = []
    chardevs: dict[str, _Chardev] = {}
    monitors: list[tuple[str, str]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise OptionError(f"{arg}: invalid option")
        name = arg[2:] if arg.startswith("--") else arg[1:]
        if name in _IGNORED_FLAGS:
            config.stopped = config.stopped or name == "S"
            i += 1
            continue
        if name == "x-bitmap-commands" and arg.startswith("--"):
            config.x_bitmap_commands = True
            i += 1
            continue
        if name not in _WITH_ARG:
            raise OptionError(f"{arg}: invalid option")
        if i + 1 >= len(argv):
            raise OptionError(f"{arg}: requires an argument")
        value = argv[i + 1]
        i += 2
        shown = f"{arg} {value}"
        if name == "qmp":
            config.qmp.append(_qmp_endpoint(value, shown))
        elif name == "blockdev":
            raw_blockdevs.append((value, shown))
        elif name == "device":
            config.devices.append(_device(value, shown))
            config.device_args.append(shown)
        elif name == "name":
            config.name = _name(value, shown)
        elif name == "chardev":
            chardev_id, endpoint = _chardev(value, shown)
            chardevs[chardev_id] = _Chardev(shown, endpoint)
        elif name in ("mon", "monitor"):
            monitors.append((value, shown))
        elif name == "qmp-log":
            config.qmp_log = Path(value)
    for value, shown in monitors:
        config.qmp.append(_monitor(value, shown, chardevs))
    config.blockdev_args = raw_blockdevs
    if decode:
        config.decode_blockdevs()
    return config


# -- -qmp, -chardev, -mon -------------------------------------------------------


def _qmp_endpoint(value: str, shown: str) -> QMPEndpoint:
    """``unix:PATH,opts`` or ``tcp:HOST:PORT,opts`` (QEMU's compat syntax)."""
    backend, _, rest = value.partition(":")
    if backend not in ("unix", "tcp") or not _:
        if value in ("stdio", "none", "null", "vc", "pty") or value.startswith(("file:", "pipe:")):
            raise OptionError(f"{shown}: only unix: and tcp: QMP sockets are supported")
        raise OptionError(f"{shown}: '{value}' is not a valid char driver")
    address, _, opts = rest.partition(",")
    try:
        props = keyval.parse(_compat_flags(opts)) if opts else {}
    except keyval.KeyvalError as err:
        raise OptionError(f"{shown}: {err}") from None
    if backend == "unix":
        return _endpoint("unix", {"path": address, **props}, shown, value)
    host, sep, port = address.rpartition(":")
    if not sep:
        raise OptionError(f"{shown}: parse error: {value}")
    return _endpoint("tcp", {"host": host, "port": port, **props}, shown, value)


def _compat_flags(opts: str) -> str:
    """QemuOpts' bare flags: ``server`` means server=on, ``nowait`` wait=off."""
    out = []
    for item in opts.split(","):
        if item in ("server", "wait", "telnet", "delay", "reconnect"):
            item += "=on"
        elif item.startswith("no") and item[2:] in ("server", "wait", "telnet", "delay"):
            item = item[2:] + "=off"
        out.append(item)
    return ",".join(out)


_SOCKET_PROPS = frozenset({"path", "host", "port", "server", "wait", "id", "ipv4", "ipv6",
                           "nodelay", "abstract", "tight", "logfile", "logappend", "mux",
                           "to", "telnet", "websocket", "reconnect"})


def _endpoint(kind: Literal["unix", "tcp"], props: dict[str, Any], shown: str,
              value: str) -> QMPEndpoint:
    for key, item in props.items():
        if key not in _SOCKET_PROPS or not isinstance(item, str):
            raise OptionError(f"{shown}: Invalid parameter '{key}'")
    for flag in ("server", "wait"):
        if flag in props and props[flag] not in ("on", "off"):
            raise OptionError(f"{shown}: Parameter '{flag}' expects 'on' or 'off'")
    if props.get("server", "off") != "on":
        target = props.get("path") if kind == "unix" else f"{props.get('host')}:{props.get('port')}"
        raise OptionError(f"{shown}: only server sockets are supported "
                          f"(server=on); cannot connect to '{target}'")
    if kind == "unix":
        path = props.get("path")
        if not path:
            raise OptionError(f"{shown}: chardev: socket: no path given")
        return QMPEndpoint("unix", path=path)
    port = props.get("port", "")
    if not re.fullmatch(r"[0-9]+", port) or int(port) > 65535:
        raise OptionError(
            f"{shown}: address resolution failed for {props.get('host')}:{port}: "
            "Servname not supported for ai_socktype")
    return QMPEndpoint("tcp", host=props.get("host") or "0.0.0.0", port=int(port))


def _chardev(value: str, shown: str) -> tuple[str, QMPEndpoint]:
    try:
        props = keyval.parse(_compat_flags(value), implied_key="backend")
    except keyval.KeyvalError as err:
        raise OptionError(f"{shown}: {err}") from None
    backend = props.pop("backend", None)
    if backend != "socket":
        raise OptionError(f"{shown}: only 'socket' chardevs are supported")
    chardev_id = props.get("id")
    if not isinstance(chardev_id, str) or not chardev_id:
        raise OptionError(f"{shown}: Parameter 'id' is missing")
    kind: Literal["unix", "tcp"] = "unix" if "path" in props else "tcp"
    return chardev_id, _endpoint(kind, props, shown, value)


def _monitor(value: str, shown: str, chardevs: dict[str, _Chardev]) -> QMPEndpoint:
    try:
        props = keyval.parse(value, implied_key="chardev")
    except keyval.KeyvalError as err:
        raise OptionError(f"{shown}: {err}") from None
    mode = props.get("mode", "control")
    if mode != "control":
        raise OptionError(f"{shown}: Only QMP is supported")
    name = props.get("chardev")
    if not isinstance(name, str):
        raise OptionError(f"{shown}: Parameter 'chardev' is missing")
    if name not in chardevs:
        raise OptionError(f'{shown}: chardev "{name}" not found')
    return chardevs[name].endpoint


# -- -device, -name ---------------------------------------------------------------


def _device(value: str, shown: str) -> DeviceConfig:
    if value.startswith("{"):
        props = _json_object(value, shown)
    else:
        try:
            props = keyval.parse(value, implied_key="driver")
        except keyval.KeyvalError as err:
            raise OptionError(f"{shown}: {err}") from None
    driver = props.get("driver")
    if not isinstance(driver, str) or not driver:
        raise OptionError(f"{shown}: Parameter 'driver' is missing")
    device_id = props.get("id")
    drive = props.get("drive")
    return DeviceConfig(
        driver=driver,
        id=device_id if isinstance(device_id, str) else None,
        drive=drive if isinstance(drive, str) else None,
        props=dict(props),
    )


def _name(value: str, shown: str) -> str:
    try:
        props = keyval.parse(value, implied_key="guest")
    except keyval.KeyvalError as err:
        raise OptionError(f"{shown}: {err}") from None
    guest = props.get("guest", "")
    return guest if isinstance(guest, str) else ""


# -- -blockdev --------------------------------------------------------------------


def _json_object(value: str, shown: str) -> dict[str, Any]:
    """QEMU's ``qobject_from_json`` for an option starting with ``{``."""
    from qapigen.runtime.jsonstream import JSONStreamError, JSONStreamParser

    parser = JSONStreamParser()
    items = parser.feed(value.encode("utf-8", "surrogateescape")) + parser.flush()
    if not items:
        raise OptionError(f"{shown}: Expecting a JSON value")
    first = items[0]
    if isinstance(first, JSONStreamError):
        raise OptionError(f"{shown}: {first.desc}")
    if len(items) > 1:
        raise OptionError(f"{shown}: Expecting at most one JSON value")
    if not isinstance(first, dict):
        raise OptionError(f"{shown}: Invalid parameter type, expected: object")
    return first


def decode_blockdev(value: str, shown: str | None = None) -> BlockdevOptions:
    """One ``-blockdev`` argument, decoded into the generated type with
    QEMU's error texts (raises :class:`OptionError`)."""
    from qapigen import qmp
    from qapigen.support.errors import QMPError

    shown = shown or f"-blockdev {value}"
    decode = qmp.TYPES["BlockdevOptions"].from_wire
    coercer: keyval.Coercer | None = None
    if value.startswith("{"):
        tree: Any = _json_object(value, shown)
    else:
        try:
            raw = keyval.parse(value, implied_key="driver")
        except keyval.KeyvalError as err:
            raise OptionError(f"{shown}: {err}") from None
        coercer = keyval.Coercer(qmp.SCHEMA_INFO)
        tree = coercer.value(raw, "BlockdevOptions", "")
    from qapigen.runtime.ghash import visitor_order

    try:
        options = decode(visitor_order(tree))
    except QMPError as err:
        if coercer is not None:
            err = coercer.explain(err)
        raise OptionError(f"{shown}: {err.desc}") from None
    if getattr(options, "node_name", None) is None:
        raise OptionError(f"{shown}: 'node-name' must be specified for the root node")
    return options  # type: ignore[no-any-return]
