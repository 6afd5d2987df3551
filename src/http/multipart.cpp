#include "http/multipart.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace threatd::http {
namespace {

constexpr std::string_view kUploadHint = "send the file as multipart/form-data with a field named 'file'";
constexpr size_t kMaxBoundary = 70;

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

// For messages: at most 40 bytes, control characters shown as '?'.
std::string Excerpt(std::string_view s) {
  std::string out(s.substr(0, 40));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  if (s.size() > 40) out += "...";
  return out;
}

// RFC 2046 bchars (space allowed, but not last).
bool IsBoundaryChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

struct Param {
  std::string name;  // lower case
  std::string value;
};

// `; name=value; name="quoted"` -> params. Quoted strings unescape only \" and
// \\ (browsers send Windows paths unescaped). Nullopt on a malformed list.
std::optional<std::vector<Param>> ParseParams(std::string_view s) {
  std::vector<Param> params;
  size_t i = 0;
  while (true) {
    while (i < s.size() && (IsSpace(s[i]) || s[i] == ';')) ++i;
    if (i == s.size()) return params;
    const size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) {
      // A bare flag ("form-data; foo"): ignore it up to the next ';'.
      const size_t semi = s.find(';', i);
      if (semi == std::string_view::npos) return params;
      i = semi;
      continue;
    }
    Param p;
    for (char c : Trim(s.substr(i, eq - i))) p.name += Lower(c);
    i = eq + 1;
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < s.size() && (s[i] == '"' || s[i] == '\\')) {
          p.value += s[i++];
        } else {
          p.value += c;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      const size_t semi = std::min(s.find(';', i), s.size());
      p.value = std::string(Trim(s.substr(i, semi - i)));
      i = semi;
    }
    params.push_back(std::move(p));
  }
}

const Param* FindParam(const std::vector<Param>& params, std::string_view name) {
  for (const Param& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'language'percent-encoded -> the raw bytes.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  const size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;
    const int hi = HexValue(v[i + 1]);
    const int lo = HexValue(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// What may follow "CRLF--boundary" for it to be a delimiter: "--", padding, CRLF.
bool IsDelimiterFollower(char c) { return c == '-' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  const std::string hint(kUploadHint);
  const size_t semi = std::min(content_type.find(';'), content_type.size());
  if (!EqualsNoCase(Trim(content_type.substr(0, semi)), "multipart/form-data")) {
    return Status::InvalidArgument("Content-Type is '" + Excerpt(content_type) + "', not multipart/form-data", hint);
  }
  auto params = ParseParams(content_type.substr(semi));
  const Param* b = params ? FindParam(*params, "boundary") : nullptr;
  if (b == nullptr) {
    return Status::InvalidArgument("multipart/form-data Content-Type has no boundary parameter", hint);
  }
  const std::string& v = b->value;
  if (v.empty() || v.size() > kMaxBoundary || v.back() == ' ' || !std::all_of(v.begin(), v.end(), IsBoundaryChar)) {
    return Status::InvalidArgument("multipart boundary '" + Excerpt(v) +
                                       "' is not 1 to 70 letters, digits or '()+_,-./:=? characters (RFC 2046)",
                                   hint);
  }
  return v;
}

Result<size_t> StringBodyReader::Read(char* out, size_t n) {
  const size_t take = std::min(n, body_.size() - offset_);
  if (take > 0) std::memcpy(out, body_.data() + offset_, take);
  offset_ += take;
  return take;
}

MultipartReader::MultipartReader(BodyReader& body, std::string boundary, MultipartLimits limits)
    : body_(body), boundary_(std::move(boundary)), delimiter_("\r\n--" + boundary_), limits_(limits) {
  // Room for a full buffer of data plus a delimiter and the byte after it
  // that may straddle the buffer's end.
  capacity_ = kBufferBytes + delimiter_.size() + 1;
  limits_.max_header_bytes = std::min(limits_.max_header_bytes, kBufferBytes);
  buf_ = std::make_unique<char[]>(capacity_);
  // The first boundary may open the body without a CRLF before it: a virtual
  // CRLF lets the one delimiter search find it (the preamble is then empty).
  buf_[0] = '\r';
  buf_[1] = '\n';
  end_ = 2;
}

MultipartReader::~MultipartReader() = default;

Status MultipartReader::Fail(Status status) {
  if (failed_.ok()) failed_ = std::move(status);
  return failed_;
}

Status MultipartReader::Truncated() const {
  return Status::InvalidArgument("multipart body ended before the closing boundary --" + boundary_ + "--: the upload was truncated",
                                 "retry the upload; if it fails again, check the client or a proxy for a size or time limit");
}

Status MultipartReader::NoBoundary() const {
  return Status::InvalidArgument(
      "multipart body has no boundary --" + boundary_ + " in its first " + std::to_string(limits_.preamble_bytes) + " bytes",
      "the boundary in the Content-Type header must be the one that separates the parts; " + std::string(kUploadHint));
}

Result<bool> MultipartReader::Fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // Invariant: callers fill only while the unread bytes are shorter than the
  // header limit or a delimiter, both smaller than the capacity.
  auto n = body_.Read(buf_.get() + end_, capacity_ - end_);
  if (!n.ok()) return Fail(n.status());
  if (*n == 0) {
    eof_ = true;
    return false;
  }
  end_ += *n;
  return true;
}

void MultipartReader::Scan() {
  const char* const base = buf_.get() + begin_;
  const char* const last = buf_.get() + end_;
  const size_t d = delimiter_.size();
  const char* p = base;
  while (p < last) {
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(last - p)));
    if (cr == nullptr) break;
    const size_t avail = static_cast<size_t>(last - cr);
    if (avail > d) {
      if (std::memcmp(cr, delimiter_.data(), d) == 0 && IsDelimiterFollower(cr[d])) {
        safe_ = static_cast<size_t>(cr - base);
        delimiter_found_ = true;
        return;
      }
    } else if (std::memcmp(cr, delimiter_.data(), avail) == 0) {
      safe_ = static_cast<size_t>(cr - base);  // may be a delimiter once more bytes arrive
      return;
    }
    p = cr + 1;
  }
  safe_ = end_ - begin_;
}

Result<size_t> MultipartReader::Available() {
  while (true) {
    if (safe_ > 0) return safe_;
    if (delimiter_found_) return size_t{0};
    Scan();
    if (safe_ > 0 || delimiter_found_) continue;
    auto more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return Fail(state_ == State::kPreamble ? NoBoundary() : Truncated());
  }
}

Status MultipartReader::SkipPart() {
  size_t skipped = 0;
  while (true) {
    auto n = Available();
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::Ok();
    begin_ += *n;
    safe_ -= *n;
    skipped += *n;
    // The virtual CRLF counts as 2 preamble bytes.
    if (state_ == State::kPreamble && skipped > limits_.preamble_bytes + 2) {
      return Fail(NoBoundary());
    }
  }
}

Result<bool> MultipartReader::ParseDelimiterLine() {
  // begin_ is at the delimiter and its follower byte is buffered (Scan).
  begin_ += delimiter_.size();
  delimiter_found_ = false;
  safe_ = 0;
  if (buf_[begin_] == '-') {
    while (end_ - begin_ < 2) {
      auto more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) return Fail(Truncated());
    }
    if (buf_[begin_ + 1] != '-') {
      return Fail(Status::InvalidArgument("multipart boundary --" + boundary_ + " is followed by a single '-'",
                                          "the closing boundary is --" + boundary_ + "--"));
    }
    return true;  // the epilogue is never read
  }
  // transport-padding CRLF (a bare LF is accepted).
  while (true) {
    size_t i = begin_;
    while (i < end_ && IsSpace(buf_[i])) ++i;
    if (i - begin_ > limits_.max_header_bytes) {
      return Fail(Status::InvalidArgument("multipart boundary line is followed by more than " +
                                          std::to_string(limits_.max_header_bytes) + " bytes of padding"));
    }
    if (i < end_ && buf_[i] == '\n') {
      begin_ = i + 1;
      return false;
    }
    if (i + 1 < end_ && buf_[i] == '\r' && buf_[i + 1] == '\n') {
      begin_ = i + 2;
      return false;
    }
    if (i < end_ && (buf_[i] != '\r' || i + 1 < end_)) {
      return Fail(Status::InvalidArgument(
          "multipart boundary line --" + boundary_ + " is followed by '" +
              Excerpt(std::string_view(buf_.get() + i, 1)) + "' instead of a line break",
          "a boundary must not occur inside a part; let the client choose the boundary"));
    }
    auto more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return Fail(Truncated());
  }
}

Result<MultipartPart> MultipartReader::ParseHeaders() {
  const std::string part_label = "multipart part " + std::to_string(parts_);
  // Find the blank line that ends the headers.
  size_t header_end = 0;  // offset from begin_ past the blank line
  size_t scanned = 0;     // lines before this offset are complete and not blank
  while (header_end == 0) {
    const std::string_view view(buf_.get() + begin_, end_ - begin_);
    while (true) {
      const size_t nl = view.find('\n', scanned);
      if (nl == std::string_view::npos) break;
      const std::string_view line = view.substr(scanned, nl - scanned);
      scanned = nl + 1;
      if (line.empty() || line == "\r") {
        header_end = scanned;
        break;
      }
    }
    if (header_end != 0) break;
    if (view.size() >= limits_.max_header_bytes) {
      return Fail(Status::InvalidArgument(part_label + " has more than " + std::to_string(limits_.max_header_bytes) +
                                          " bytes of headers", "send only Content-Disposition and Content-Type part headers"));
    }
    auto more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return Fail(Truncated());
  }
  if (header_end > limits_.max_header_bytes) {
    return Fail(Status::InvalidArgument(part_label + " has more than " + std::to_string(limits_.max_header_bytes) +
                                        " bytes of headers", "send only Content-Disposition and Content-Type part headers"));
  }
  const std::string_view block(buf_.get() + begin_, header_end);
  begin_ += header_end;

  // Unfold and split into name/value pairs.
  std::vector<std::pair<std::string, std::string>> headers;
  size_t pos = 0;
  while (pos < block.size()) {
    const size_t nl = block.find('\n', pos);
    std::string_view line = block.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (IsSpace(line.front()) && !headers.empty()) {
      headers.back().second += ' ';
      headers.back().second += Trim(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(Status::InvalidArgument(part_label + " has a malformed header line '" + Excerpt(line) + "'",
                                          "part headers look like 'Content-Disposition: form-data; name=\"file\"'"));
    }
    headers.emplace_back(std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }

  MultipartPart part;
  part.content_type = "text/plain";
  bool have_disposition = false;
  for (const auto& [name, value] : headers) {
    if (EqualsNoCase(name, "content-type")) {
      part.content_type = value;
    } else if (EqualsNoCase(name, "content-disposition") && !have_disposition) {
      have_disposition = true;
      const std::string_view v = value;
      const size_t semi = std::min(v.find(';'), v.size());
      auto params = ParseParams(v.substr(semi));
      const Param* n = params ? FindParam(*params, "name") : nullptr;
      if (!EqualsNoCase(Trim(v.substr(0, semi)), "form-data") || n == nullptr) {
        return Fail(Status::InvalidArgument(part_label + " has Content-Disposition '" + Excerpt(v) + "'",
                                            "each part needs 'Content-Disposition: form-data; name=\"...\"'"));
      }
      part.name = n->value;
      if (const Param* f = FindParam(*params, "filename")) part.filename = f->value;
      if (const Param* f = FindParam(*params, "filename*")) {
        if (auto decoded = DecodeExtValue(f->value)) part.filename = std::move(*decoded);
      }
    }
  }
  if (!have_disposition) {
    return Fail(Status::InvalidArgument(part_label + " has no Content-Disposition header",
                                        "each part needs 'Content-Disposition: form-data; name=\"...\"'"));
  }
  return part;
}

Result<std::optional<MultipartPart>> MultipartReader::NextPart() {
  if (!failed_.ok()) return failed_;
  if (state_ == State::kDone) return std::optional<MultipartPart>();
  THREATD_RETURN_IF_ERROR(SkipPart());
  auto closing = ParseDelimiterLine();
  if (!closing.ok()) return closing.status();
  if (*closing) {
    state_ = State::kDone;
    part_name_.clear();
    return std::optional<MultipartPart>();
  }
  ++parts_;
  if (parts_ > limits_.max_parts) {
    return Fail(Status::InvalidArgument("multipart body has more than " + std::to_string(limits_.max_parts) + " parts",
                                        "send only the form fields this endpoint takes"));
  }
  auto part = ParseHeaders();
  if (!part.ok()) return part.status();
  state_ = State::kPart;
  part_name_ = part->name;
  return std::optional<MultipartPart>(std::move(*part));
}

Result<size_t> MultipartReader::Read(char* out, size_t n) {
  if (!failed_.ok()) return failed_;
  if (state_ != State::kPart || n == 0) return size_t{0};
  auto avail = Available();
  if (!avail.ok()) return avail.status();
  const size_t take = std::min(n, *avail);
  std::memcpy(out, buf_.get() + begin_, take);
  begin_ += take;
  safe_ -= take;
  return take;
}

Result<std::string> MultipartReader::ReadAll(size_t max_bytes) {
  if (!failed_.ok()) return failed_;
  std::string out;
  if (state_ != State::kPart) return out;
  while (true) {
    auto avail = Available();
    if (!avail.ok()) return avail.status();
    if (*avail == 0) return out;
    if (out.size() + *avail > max_bytes) {
      return Fail(Status::PayloadTooLarge("multipart field '" + Excerpt(part_name_) + "' is larger than " +
                                          std::to_string(max_bytes) + " bytes",
                                          "send a shorter value, or the content as a file part"));
    }
    out.append(buf_.get() + begin_, *avail);
    begin_ += *avail;
    safe_ -= *avail;
  }
}

}  // namespace threatd::http
