#include "flow/csv_reader.h"

#include <array>
#include <cstring>

#include "flow/utf8.h"

namespace threatd::flow {
namespace {

constexpr uint8_t kEscaped = 1;   // quoted field with doubled quotes
constexpr uint8_t kHighBit = 2;   // contains bytes >= 0x80

enum : uint8_t { kPlain = 0, kDelim = 1, kLf = 2, kCr = 3, kNul = 4 };

std::array<uint8_t, 256> MakeClassTable(char delimiter) {
  std::array<uint8_t, 256> t{};
  t[static_cast<uint8_t>(delimiter)] = kDelim;
  t['\n'] = kLf;
  t['\r'] = kCr;
  t[0] = kNul;
  return t;
}

std::string LinePrefix(uint64_t line) { return "CSV line " + std::to_string(line) + ": "; }

}  // namespace

CsvReader::CsvReader(std::unique_ptr<ByteSource> source, CsvOptions options)
    : source_(std::move(source)), options_(options) {
  if (options_.buffer_bytes < 64) options_.buffer_bytes = 64;
  buffer_.resize(options_.buffer_bytes);
  byte_class_ = MakeClassTable(options_.delimiter);
}

Status CsvReader::Fill() {
  // Move the unconsumed tail (a partial record) to the front, grow if full.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) {
    if (end_ >= options_.max_record_bytes) {
      return Status::InvalidArgument(
          LinePrefix(line_) + "record longer than " + std::to_string(options_.max_record_bytes) +
              " bytes",
          "check that the file is a comma-separated CSV with line breaks between records");
    }
    buffer_.resize(std::min(buffer_.size() * 2, options_.max_record_bytes + options_.buffer_bytes));
  }
  auto r = source_->Read(buffer_.data() + end_, buffer_.size() - end_);
  if (!r.ok()) return r.status().WithContext(LinePrefix(line_) + "reading input");
  if (*r == 0) eof_ = true;
  end_ += *r;
  bytes_read_ += *r;
  return Status::Ok();
}

CsvReader::Outcome CsvReader::Fail(Status status) {
  error_ = std::move(status);
  return Outcome::kError;
}

Result<bool> CsvReader::Next() {
  if (!error_.ok()) return error_;
  if (!started_) {
    started_ = true;
    while (end_ < 3 && !eof_) {
      if (Status s = Fill(); !s.ok()) return error_ = s;
    }
    if (end_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
  }
  for (;;) {
    if (begin_ == end_) {
      if (eof_) return false;
      if (Status s = Fill(); !s.ok()) return error_ = s;
      continue;
    }
    switch (ParseRecord()) {
      case Outcome::kRecord:
        return true;
      case Outcome::kError:
        return error_;
      case Outcome::kNeedMore:
        if (Status s = Fill(); !s.ok()) return error_ = s;
        break;
    }
  }
}

CsvReader::Outcome CsvReader::ParseRecord() {
  const std::array<uint8_t, 256>& table = byte_class_;
  char* const base = buffer_.data();
  const char* p = base + begin_;
  const char* const e = base + end_;

  // Blank lines between records are skipped.
  while (p < e && (*p == '\n' || *p == '\r')) {
    if (*p == '\r') {
      if (p + 1 == e && !eof_) return Outcome::kNeedMore;
      if (p + 1 < e && p[1] == '\n') ++p;
    }
    ++p;
    ++line_;
    begin_ = static_cast<size_t>(p - base);
  }
  if (p == e) return Outcome::kNeedMore;  // Next() sees begin_ == end_

  const char* const start = p;
  spans_.clear();
  pending_newlines_ = 0;
  for (;;) {
    uint8_t flags = 0;
    const char* field;
    size_t length;
    if (p < e && *p == '"') {
      const char* q = ++p;
      field = p;
      for (;;) {
        uint8_t acc = 0;
        while (q < e && *q != '"') {
          acc |= static_cast<uint8_t>(*q);
          if (*q == '\n') ++pending_newlines_;
          if (*q == '\0') {
            return Fail(Status::InvalidArgument(
                LinePrefix(line_ + pending_newlines_) + "binary data (NUL byte) in the input",
                "upload a CSV text file (.csv or .csv.gz)"));
          }
          ++q;
        }
        if (acc & 0x80) flags |= kHighBit;
        if (q == e) {
          if (!eof_) return Outcome::kNeedMore;
          return Fail(Status::InvalidArgument(
              LinePrefix(line_) + "quoted field is never closed (input ends inside quotes)",
              "check the file is complete and every '\"' inside a field is doubled"));
        }
        // The byte after a quote decides between "" (escaped) and the end.
        if (q + 1 == e && !eof_) return Outcome::kNeedMore;
        if (q + 1 < e && q[1] == '"') {
          flags |= kEscaped;
          q += 2;
          continue;
        }
        break;  // q is the closing quote
      }
      length = static_cast<size_t>(q - field);
      p = q + 1;
      if (p < e && table[static_cast<uint8_t>(*p)] == kPlain) {
        return Fail(Status::InvalidArgument(
            LinePrefix(line_ + pending_newlines_) + "unexpected character '" + std::string(1, *p) +
                "' after a closing quote",
            "quote the whole field and double any '\"' inside it"));
      }
    } else {
      field = p;
      uint8_t acc = 0;
      while (p < e && table[static_cast<uint8_t>(*p)] == kPlain) {
        acc |= static_cast<uint8_t>(*p);
        ++p;
      }
      if (acc & 0x80) flags |= kHighBit;
      length = static_cast<size_t>(p - field);
    }
    if (p == e && !eof_) return Outcome::kNeedMore;
    spans_.push_back({static_cast<uint32_t>(field - start), static_cast<uint32_t>(length), flags});
    if (p == e) {  // last record without a line end
      Finish(start, p);
      return Outcome::kRecord;
    }
    switch (table[static_cast<uint8_t>(*p)]) {
      case kDelim:
        ++p;
        if (p == e && eof_) {  // "a,b," at end of input: a trailing empty field
          spans_.push_back({static_cast<uint32_t>(p - start), 0, 0});
          Finish(start, p);
          return Outcome::kRecord;
        }
        continue;
      case kLf:
        Finish(start, p + 1);
        return Outcome::kRecord;
      case kCr:
        if (p + 1 == e && !eof_) return Outcome::kNeedMore;
        Finish(start, (p + 1 < e && p[1] == '\n') ? p + 2 : p + 1);
        return Outcome::kRecord;
      default:  // kNul
        return Fail(Status::InvalidArgument(
            LinePrefix(line_ + pending_newlines_) + "binary data (NUL byte) in the input",
            "upload a CSV text file (.csv or .csv.gz)"));
    }
  }
}

void CsvReader::Finish(const char* record_start, const char* next) {
  row_.fields_.clear();
  row_.line_ = line_;
  row_.index_ = records_++;
  line_ += 1 + pending_newlines_;
  begin_ = static_cast<size_t>(next - buffer_.data());

  size_t scratch_needed = 0;
  for (const Span& s : spans_) {
    if (s.flags != 0) scratch_needed += 3 * size_t{s.length};
  }
  scratch_.clear();
  if (scratch_needed > scratch_.capacity()) scratch_.reserve(scratch_needed);
  for (const Span& s : spans_) {
    std::string_view text(record_start + s.offset, s.length);
    if (s.flags == 0) {
      row_.fields_.push_back(text);
      continue;
    }
    if (s.flags & kEscaped) {
      unescaped_.clear();
      for (size_t i = 0; i < text.size(); ++i) {
        unescaped_.push_back(text[i]);
        if (text[i] == '"') ++i;  // skip the second quote of a pair
      }
      text = unescaped_;
    }
    size_t offset = scratch_.size();
    if ((s.flags & kHighBit) && !IsValidUtf8(text)) {
      AppendNormalisedUtf8(text, &scratch_);
      ++repaired_fields_;
    } else {
      scratch_.append(text);
    }
    // scratch_ never reallocates here (reserved above), so earlier views stay valid.
    row_.fields_.push_back(std::string_view(scratch_.data() + offset, scratch_.size() - offset));
  }
}

}  // namespace threatd::flow
