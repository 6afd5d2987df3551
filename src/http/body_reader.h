// BodyReader: pull interface to a request body that is streamed from the socket.
//
// Routes registered with RouteOptions::stream_body get Request::body_reader
// instead of a buffered Request::body. The network side feeds a bounded queue
// of chunks; when the queue is full it stops reading the socket until the
// handler consumes, so memory stays bounded whatever the body size.
//
// Ownership: owned by the server; valid until the handler returns.
// Thread-safety: Read() is called by one handler thread; the other members
// may be called from any thread. Read() blocks until data, end or error.
#pragma once

#include <cstddef>

#include "common/status.h"

namespace threatd::http {

class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Copies up to `n` bytes into `out`; 0 means the body is complete. Errors:
  // PayloadTooLarge (route limit exceeded), InvalidArgument (malformed
  // chunked encoding), Timeout/Unavailable (client stalled or went away).
  virtual Result<size_t> Read(char* out, size_t n) = 0;
  // Bytes received so far (whole body, not just what is queued).
  virtual size_t BytesReceived() const = 0;
  // Bytes currently queued between the socket and the handler, and the
  // queue's capacity; BufferedBytes() never exceeds about Capacity().
  virtual size_t BufferedBytes() const = 0;
  virtual size_t Capacity() const = 0;
};

}  // namespace threatd::http
