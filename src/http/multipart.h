// Streaming multipart/form-data (RFC 7578 over RFC 2046) on top of a BodyReader.
//
// MultipartReader pulls a request body through one fixed buffer
// (kBufferBytes plus the delimiter length), so a multi-GB file part is read in
// constant memory: NextPart() parses the next part's headers, Read() hands
// out that part's bytes as they arrive, ReadAll() collects a small field.
//
//   auto boundary = MultipartBoundary(request.header("content-type"));
//   MultipartReader parts(*request.body_reader, *boundary);
//   while (true) {
//     auto part = parts.NextPart();          // skips what is left of the previous part
//     if (!part.ok()) return part.status();
//     if (!*part) break;                     // closing boundary seen
//     if ((*part)->name == "file") { char buf[65536]; ... parts.Read(buf, sizeof buf) ... }
//     else { auto text = parts.ReadAll(64 * 1024); ... }
//   }
//
// Wire format accepted: an optional preamble (at most preamble_bytes), then
// "--boundary" transport-padding CRLF, headers, CRLF, data, and each next
// delimiter "CRLF--boundary"; the last one is "CRLF--boundary--". The epilogue
// after it is never read. "CRLF--boundary" followed by anything but "--",
// space, tab or CRLF is data (as in Go's mime/multipart). Part header names
// are case-insensitive; lines end in CRLF (a bare LF is accepted); folded
// lines are joined. Content-Disposition must be form-data with a name;
// parameters may be quoted (\" and \\ are unescaped, other backslashes kept,
// so "C:\dir\a.csv" survives) or tokens; filename* (RFC 5987,
// UTF-8''percent-encoded) is decoded and wins over filename.
//
// Errors are InvalidArgument with a hint, except: ReadAll beyond its limit is
// PayloadTooLarge, and the BodyReader's own errors (PayloadTooLarge, Timeout,
// Unavailable) pass through unchanged. After any error the reader stays
// failed and every call returns the same Status.
//
// Ownership: the reader borrows `body` (it must outlive the reader).
// Thread-safety: none; use from the one handler thread that owns the body.
// Blocking: NextPart/Read/ReadAll block in BodyReader::Read until data arrives.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/body_reader.h"

namespace threatd::http {

// "multipart/form-data; boundary=..." -> the boundary (quoted or not; RFC 2046
// limits: 1..70 characters from its bchars set, not ending in a space).
// InvalidArgument with a hint otherwise.
Result<std::string> MultipartBoundary(std::string_view content_type);

struct MultipartLimits {
  size_t max_header_bytes = 8 * 1024;  // per part, boundary line padding included; capped at the buffer size
  size_t max_parts = 16;               // the part after these is an error
  size_t preamble_bytes = 16 * 1024;   // bytes allowed before the first boundary (browsers send none)
};

struct MultipartPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // present when the part is a file (may be "")
  std::string content_type;             // the part's Content-Type; "text/plain" when absent (RFC 7578 4.4)
};

class MultipartReader {
 public:
  static constexpr size_t kBufferBytes = 64 * 1024;

  MultipartReader(BodyReader& body, std::string boundary, MultipartLimits limits = {});
  ~MultipartReader();
  MultipartReader(const MultipartReader&) = delete;
  MultipartReader& operator=(const MultipartReader&) = delete;

  // The next part's headers; skips the rest of the current part first.
  // nullopt after the closing boundary (and on every later call).
  Result<std::optional<MultipartPart>> NextPart();

  // Up to `n` bytes of the current part; 0 = end of the part (or no part yet).
  Result<size_t> Read(char* out, size_t n);

  // The rest of the current part; PayloadTooLarge naming the part when it is
  // longer than `max_bytes` (holds at most max_bytes in memory).
  Result<std::string> ReadAll(size_t max_bytes);

 private:
  enum class State { kPreamble, kPart, kDone };

  Result<size_t> Available();        // bytes of the current part ready at buf_+begin_; 0 = part ended
  void Scan();                       // looks for the delimiter in [begin_, end_)
  Result<bool> Fill();               // compacts and reads more; false at the end of the body
  Status SkipPart();                 // drops the rest of the current part or preamble
  Result<bool> ParseDelimiterLine();  // after "--boundary": true = closing, false = a part follows
  Result<MultipartPart> ParseHeaders();
  Status Fail(Status status);        // makes `status` sticky and returns it
  Status Truncated() const;
  Status NoBoundary() const;

  BodyReader& body_;
  std::string boundary_;
  std::string delimiter_;  // "\r\n--" + boundary
  MultipartLimits limits_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // unread bytes are [begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  size_t safe_ = 0;                // bytes at begin_ known to be part data
  bool delimiter_found_ = false;   // the delimiter starts at begin_ + safe_
  State state_ = State::kPreamble;
  size_t parts_ = 0;
  std::string part_name_;
  Status failed_;
};

// A BodyReader over bytes in memory (tests, buffered request bodies). Borrows
// `body`: the bytes must outlive the reader. Not thread-safe.
class StringBodyReader final : public BodyReader {
 public:
  explicit StringBodyReader(std::string_view body) : body_(body) {}
  Result<size_t> Read(char* out, size_t n) override;
  size_t BytesReceived() const override { return offset_; }
  size_t BufferedBytes() const override { return body_.size() - offset_; }
  size_t Capacity() const override { return body_.size(); }

 private:
  std::string_view body_;
  size_t offset_ = 0;
};

}  // namespace threatd::http
