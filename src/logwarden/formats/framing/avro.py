"""Event Hubs Capture files: Avro containers whose records carry each message in `Body`.

A diagnostic setting streaming to an Event Hub sends `{"records": [...]}` bodies; Capture
writes them, one Avro record per message, to `<namespace>/<hub>/<partition>/<y>/…/<s>.avro`.
"""

from __future__ import annotations

from typing import BinaryIO

import fastavro
import orjson

from logwarden.formats.framing.base import BATCH_BYTES, BatchBuilder, FrameStream, Locator, Reject, excerpt
from logwarden.formats.framing.envelopes import NotARecord, unwrap

AVRO_MAGIC = b"Obj\x01"


def frame_avro(stream: BinaryIO) -> FrameStream:
    builder = BatchBuilder()
    try:
        reader = fastavro.reader(stream)
    except (ValueError, EOFError) as exc:
        yield Reject(Locator(), "unreadable-file", f"not a readable Avro container ({exc})")
        return
    index = 0
    try:
        for message in reader:
            index += 1
            where = Locator(record=index)
            body = message.get("Body") if isinstance(message, dict) else None
            if not isinstance(body, bytes | str):
                yield Reject(where, "unknown-shape", "an Avro record with no message Body: not an Event Hubs capture")
                continue
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                yield Reject(where, "invalid-json", f"the message Body is not JSON: {exc}", excerpt(body))
                continue
            for item in unwrap(value):
                if isinstance(item, NotARecord):
                    yield Reject(where, item.reason, item.message)
                else:
                    builder.add(orjson.dumps(item.record).decode(), where, item.wrapper)
            if builder.size >= BATCH_BYTES:
                yield builder.take()
    except (ValueError, EOFError, OSError) as exc:
        message = f"the Avro container breaks off after record {index} ({exc})"
        yield Reject(Locator(record=index + 1), "truncated", message)
    if len(builder):
        yield builder.take()
