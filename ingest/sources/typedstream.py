"""A reader of Apple's typedstream (NSArchiver) for the text of an archived NSAttributedString.

Since iOS 16 the Messages app often leaves `message.text` empty and keeps the words only in
`message.attributedBody`: an NSAttributedString archived by NSArchiver in the "typedstream" format of
NeXTSTEP (the same format holds the versions of an edited message in `message_summary_info`). The format:

- a header: the streamer version (a number), the signature `streamtyped` (its length, then its bytes), the system
  version (a number);
- then groups, each a type string (Objective-C type encoding, e.g. `@` an object, `+` bytes with their
  length, `*` a C string, `i`/`I`/`q` numbers, `iI` two numbers) followed by one value per character;
- numbers are one signed byte, or 0x81 and two bytes, 0x82 and four, 0x83 and a float/double (little endian);
- 0x84 starts something new, 0x85 is nil, 0x86 ends an object, 0x92 + n refers to the n-th thing seen before;
  type strings and class names (shared strings) are counted in one table, objects, classes and C strings in
  another;
- an object is its class chain (name, version, superclass … up to nil) and then its own groups up to 0x86.

An NSAttributedString is archived as its NSString (whose `+` group holds the UTF-8 text), then runs of
attributes. Only what that needs is read, up to the text: what follows it may use constructs this reader
does not know (arrays, structs). A stream that holds no text raises TypedStreamError. U+FFFC in the text marks
where an attachment sits. Checked on real blobs of the Messages app (tests/test_typedstream.py).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Union

from kernel.errors import InputError

_SIGNATURE = b"streamtyped"
_INT16, _INT32, _FLOAT = 0x81, 0x82, 0x83
_NEW, _NIL, _END = 0x84, 0x85, 0x86
_REFERENCE = 0x92
_INTEGERS = frozenset(b"cCsSiIlLqQ")
_MAX_DEPTH = 64


class TypedStreamError(InputError):
    """The bytes are not a typedstream this reader understands."""


@dataclass
class ArchivedObject:
    """An object of the stream: its class chain (most specific first) and the values of its groups."""

    classes: tuple[str, ...]
    values: list["Value"] = field(default_factory=list)


Value = Union[int, float, bytes, str, None, "ArchivedObject"]


@dataclass(frozen=True)
class _Class:
    name: str
    version: int
    superclass: "_Class | None"

    def chain(self) -> tuple[str, ...]:
        return (self.name, *(self.superclass.chain() if self.superclass else ()))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.strings: list[bytes] = []
        self.objects: list[object] = []
        self.first_text: bytes | None = None  # the bytes of the first NSString read, kept when a later part fails

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise TypedStreamError("the typedstream ends too early")
        value = self.data[self.at]
        self.at += 1
        return value

    def take(self, count: int) -> bytes:
        if count < 0 or self.at + count > len(self.data):
            raise TypedStreamError("the typedstream ends too early")
        chunk = self.data[self.at:self.at + count]
        self.at += count
        return chunk

    def number(self, first: int | None = None) -> int:
        tag = self.byte() if first is None else first
        if tag == _INT16:
            return int(struct.unpack("<h", self.take(2))[0])
        if tag == _INT32:
            return int(struct.unpack("<i", self.take(4))[0])
        if tag in (_FLOAT, _NEW, _NIL, _END):
            raise TypedStreamError(f"a number was expected at byte {self.at - 1}")
        return tag - 256 if tag > 127 else tag

    def real(self, width: int) -> float:
        tag = self.byte()
        if tag == _FLOAT:
            return float(struct.unpack("<f" if width == 4 else "<d", self.take(width))[0])
        return float(self.number(tag))

    def shared_string(self) -> bytes | None:
        tag = self.byte()
        if tag == _NIL:
            return None
        if tag == _NEW:
            text = self.take(self.number())
            self.strings.append(text)
            return text
        return self._referenced(self.strings, tag, "string")

    def _referenced(self, table: list[Any], tag: int, what: str) -> Any:
        index = tag - _REFERENCE if tag >= _REFERENCE else tag + 256 - _REFERENCE
        if not 0 <= index < len(table):
            raise TypedStreamError(f"a reference to {what} {index}, which the typedstream never gave")
        return table[index]

    def class_chain(self, depth: int) -> _Class | None:
        if depth > _MAX_DEPTH:
            raise TypedStreamError("the typedstream nests too deep")
        tag = self.byte()
        if tag == _NIL:
            return None
        if tag != _NEW:
            found = self._referenced(self.objects, tag, "class")
            if not isinstance(found, _Class):
                raise TypedStreamError("a class reference names something that is not a class")
            return found
        name = self.shared_string()
        if name is None:
            raise TypedStreamError("a class without a name")
        version = self.number()
        slot = len(self.objects)
        self.objects.append(None)
        made = _Class(name.decode("utf-8", "replace"), version, self.class_chain(depth + 1))
        self.objects[slot] = made
        return made

    def object(self, depth: int) -> ArchivedObject | None:
        if depth > _MAX_DEPTH:
            raise TypedStreamError("the typedstream nests too deep")
        tag = self.byte()
        if tag == _NIL:
            return None
        if tag != _NEW:
            found = self._referenced(self.objects, tag, "object")
            if not isinstance(found, ArchivedObject):
                raise TypedStreamError("an object reference names a class")
            return found
        made = ArchivedObject(())
        self.objects.append(made)
        chain = self.class_chain(depth + 1)
        made.classes = chain.chain() if chain else ()
        while self.at < len(self.data) and self.data[self.at] != _END:
            made.values += self.group(depth + 1)
            if self.first_text is None and "NSString" in made.classes:
                self.first_text = next((v for v in made.values if isinstance(v, bytes)), None)
        self.byte()  # the object's end
        return made

    def group(self, depth: int) -> list[Value]:
        types = self.shared_string()
        if types is None:
            raise TypedStreamError("a group without a type")
        values: list[Value] = []
        for code in types:
            values.append(self.value(code, depth))
        return values

    def value(self, code: int, depth: int) -> Value:
        if code == ord("@"):
            return self.object(depth)
        if code == ord("+"):  # bytes; a length past the stream's end is read to the end (a stream cut short)
            count = self.number()
            return self.take(min(count, len(self.data) - self.at))
        if code == ord("*"):
            tag = self.byte()
            if tag == _NIL:
                return None
            # a C string is an entry of the object table: new (0x84, then a shared string), or a reference to it
            if tag != _NEW:
                found = self._referenced(self.objects, tag, "C string")
                if not isinstance(found, str):
                    raise TypedStreamError("a C string reference names something else")
                return found
            shared = self.shared_string()
            text = None if shared is None else shared.decode("utf-8", "replace")
            self.objects.append(text)
            return text
        if code in _INTEGERS:
            return self.number()
        if code in (ord("f"), ord("d")):
            return self.real(4 if code == ord("f") else 8)
        raise TypedStreamError(f"the typedstream holds type {chr(code)!r}, which this reader does not read")


def attributed_string_text(data: bytes) -> str:
    """The text of the NSAttributedString archived in `data` (a `message.attributedBody`): the bytes of the first
    NSString it holds, as UTF-8. What follows the text (runs of attributes, data this reader does not know, a
    stream cut short after it) does not matter. TypedStreamError when `data` is not a typedstream or holds no
    text (an empty string counts as none, as the Messages app writes no attributedBody for a message without)."""
    reader = _Reader(data)
    problem: TypedStreamError | None = None
    try:
        reader.number()  # streamer version
        if reader.take(reader.number()) != _SIGNATURE:
            raise TypedStreamError("not a typedstream (no 'streamtyped' signature)")
        reader.number()  # system version
        while reader.at < len(data) and reader.first_text is None:
            reader.group(0)
    except TypedStreamError as error:
        problem = error
    if reader.first_text:
        return reader.first_text.decode("utf-8", "replace")
    raise problem or TypedStreamError("the typedstream holds no text")
