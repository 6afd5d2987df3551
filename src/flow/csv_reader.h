// CsvReader: a streaming RFC 4180 CSV reader that hands out one record at a
// time as string_views, in constant memory for any input size.
//
// Handles: quoted fields (commas, doubled quotes, newlines inside quotes), a
// UTF-8 byte-order mark, LF, CRLF and lone CR line ends, blank lines (skipped),
// a last line without a line end. Text is always valid UTF-8: bytes that are
// not (cp1252 from the original CIC-IDS2017 files) are repaired, see utf8.h.
// A NUL byte is reported as binary input; an unterminated quote at end of
// input, a stray character after a closing quote and a record longer than
// CsvOptions::max_record_bytes are errors. Every error names the line.
//
// Memory: one buffer of `buffer_bytes`, grown only to hold one record (at most
// max_record_bytes), plus per-record field vectors reused across records; no
// allocation per field in the steady state.
//
// Ownership: the reader owns its source. The views in row() stay valid until
// the next call to Next().
// Thread-safety: none; one thread at a time. Next() blocks on the source.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "flow/byte_source.h"

namespace threatd::flow {

struct CsvOptions {
  char delimiter = ',';
  size_t buffer_bytes = 1 << 20;         // read granularity
  size_t max_record_bytes = 8 << 20;     // longer records are an error (bounds memory)
};

// One record. Fields are views into the reader's buffers.
class CsvRow {
 public:
  size_t size() const { return fields_.size(); }
  std::string_view operator[](size_t i) const { return fields_[i]; }
  const std::vector<std::string_view>& fields() const { return fields_; }
  uint64_t line() const { return line_; }    // 1-based line where the record starts
  uint64_t index() const { return index_; }  // 0-based record number (a header is 0)

 private:
  friend class CsvReader;
  std::vector<std::string_view> fields_;
  uint64_t line_ = 0;
  uint64_t index_ = 0;
};

class CsvReader {
 public:
  explicit CsvReader(std::unique_ptr<ByteSource> source, CsvOptions options = {});
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into row(): true, false at end of input, or an
  // error (after which every call returns the same error).
  Result<bool> Next();
  const CsvRow& row() const { return row_; }

  uint64_t bytes_read() const { return bytes_read_; }          // from the source
  uint64_t repaired_fields() const { return repaired_fields_; }  // cp1252 repairs
  size_t buffer_bytes() const { return buffer_.size(); }  // current buffer size (memory bound)

 private:
  enum class Outcome { kRecord, kNeedMore, kError };
  struct Span {
    uint32_t offset;  // from the record start in buffer_
    uint32_t length;
    uint8_t flags;
  };

  Outcome ParseRecord();
  Status Fill();
  void Finish(const char* record_start, const char* next);
  Outcome Fail(Status status);

  std::unique_ptr<ByteSource> source_;
  CsvOptions options_;
  std::array<uint8_t, 256> byte_class_{};  // delimiter / line end / NUL / plain
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  bool started_ = false;
  Status error_;
  uint64_t line_ = 1;  // line of the next record
  uint64_t records_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t repaired_fields_ = 0;
  uint64_t pending_newlines_ = 0;  // inside quoted fields of the record being parsed
  std::vector<Span> spans_;
  std::string scratch_;  // unescaped / repaired fields of the current record
  std::string unescaped_;
  CsvRow row_;
};

}  // namespace threatd::flow
