// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/subtitle_cues.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <string_view>

namespace tws {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kMillisecond = 1000000;
constexpr size_t npos = std::string_view::npos;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool blank(std::string_view s) { return trim(s).empty(); }
bool contains(std::string_view s, std::string_view what) { return s.find(what) != npos; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != lower(prefix[i])) return false;
  return true;
}

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && starts_with_ci(a, b);
}

bool is_integer(std::string_view s) {
  s = trim(s);
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Lines without their terminators. "\r\n", "\n" and a lone "\r" each end a line: WebVTT allows
// all three and files written on Windows use "\r\n". A leading UTF-8 BOM is not part of line 1.
constexpr std::string_view kBom = "\xEF\xBB\xBF";  // U+FEFF in UTF-8

std::vector<std::string_view> split_lines(std::string_view text) {
  if (text.substr(0, 3) == kBom) text.remove_prefix(3);
  std::vector<std::string_view> lines;
  size_t begin = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(begin, i - begin));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    begin = i + 1;
  }
  if (begin < text.size()) lines.push_back(text.substr(begin));
  return lines;
}

// Each line trimmed, blank ones removed: a blank line would end a WebVTT cue early.
std::string tidy_lines(std::string_view text) {
  std::string out;
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty()) continue;
    if (!out.empty()) out += '\n';
    out.append(line);
  }
  return out;
}

// "[H:]MM:SS[.fff]", ',' also allowed before the fraction: WebVTT (hours optional, "00:01.000"),
// SRT ("00:00:01,000", some writers use '.') and ASS ("0:00:01.00", centiseconds) all fit.
// At most 6 digits of hours keep the result far from int64 overflow.
bool parse_time(std::string_view s, int64_t* ns) {
  int64_t parts[3] = {0, 0, 0};
  size_t digits[3] = {0, 0, 0};
  int count = 0;
  size_t pos = 0;
  for (;;) {
    const size_t begin = pos;
    int64_t v = 0;
    while (pos < s.size() && is_digit(s[pos]) && pos - begin < 6) v = v * 10 + (s[pos++] - '0');
    if (pos == begin || (pos < s.size() && is_digit(s[pos]))) return false;
    parts[count] = v;
    digits[count] = pos - begin;
    ++count;
    if (count < 3 && pos < s.size() && s[pos] == ':') {
      ++pos;
      continue;
    }
    break;
  }
  if (count < 2) return false;
  const int64_t h = count == 3 ? parts[0] : 0, m = parts[count - 2], sec = parts[count - 1];
  if (digits[count - 2] > 2 || digits[count - 1] > 2 || m > 59 || sec > 59) return false;
  int64_t frac = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    const size_t begin = ++pos;
    int64_t unit = kSecond / 10;
    for (; pos < s.size() && is_digit(s[pos]); ++pos, unit /= 10) frac += (s[pos] - '0') * unit;
    if (pos == begin) return false;
  }
  if (pos != s.size()) return false;
  *ns = ((h * 60 + m) * 60 + sec) * kSecond + frac;
  return true;
}

// "START --> END[ settings]": WebVTT cue settings and SRT's "X1:.. Y2:.." after END are ignored.
bool parse_timing(std::string_view line, int64_t* start, int64_t* end) {
  const size_t arrow = line.find("-->");
  if (arrow == npos) return false;
  const std::string_view left = trim(line.substr(0, arrow)), right = trim(line.substr(arrow + 3));
  size_t stop = 0;
  while (stop < right.size() && !is_space(right[stop])) ++stop;
  return parse_time(left, start) && parse_time(right.substr(0, stop), end);
}

// A line meant as timing but without "-->", like "00:01 -> 00:02": it starts with a time that
// has a ':' and has a '-' or '>' later. It is reported as malformed where a cue identifier or
// stray text is skipped.
bool looks_like_timing(std::string_view line) {
  line = trim(line);
  if (line.empty() || !is_digit(line[0])) return false;
  size_t i = 0;
  while (i < line.size() &&
         (is_digit(line[i]) || line[i] == ':' || line[i] == '.' || line[i] == ','))
    ++i;
  return contains(line.substr(0, i), ":") && line.find_first_of("->", i) != npos;
}

// The offending line as it goes into a one-line error: trimmed, control bytes replaced and
// long lines cut (on a UTF-8 character boundary).
std::string quote_line(std::string_view s) {
  constexpr size_t kMax = 60;
  s = trim(s);
  bool cut = false;
  if (s.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? '?' : c;
  return out + (cut ? "...\"" : "\"");
}

std::string bad_timing(size_t index, std::string_view line) {
  return "line " + std::to_string(index + 1) + ": bad timing " + quote_line(line);
}

// Length of the entity ("&amp;", "&#38;", "&#x26;") at s[at] == '&', 0 when it starts none.
size_t entity_length(std::string_view s, size_t at) {
  constexpr size_t kMaxName = 32;
  size_t i = at + 1;
  bool (*ok)(char) = is_alnum;
  if (i < s.size() && s[i] == '#') {
    ++i;
    ok = is_digit;
    if (i < s.size() && (s[i] == 'x' || s[i] == 'X')) {
      ++i;
      ok = [](char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); };
    }
  }
  const size_t name = i;
  while (i < s.size() && i - name < kMaxName && ok(s[i])) ++i;
  return i > name && i < s.size() && s[i] == ';' ? i + 1 - at : 0;
}

// Index of the '>' closing the tag that starts at s[at] == '<', npos when it starts none. A tag
// is "<name ...>" or "</name>" (a letter first), or a WebVTT timestamp "<00:01.000>", within
// one line. Quoted attribute values may hold '>', never '<' (XML), so a scan ends at the next
// '<' and each byte is looked at a bounded number of times.
size_t tag_end(std::string_view s, size_t at) {
  size_t i = at + 1;
  const bool closing = i < s.size() && s[i] == '/';
  if (closing) ++i;
  if (i >= s.size() || !(is_alpha(s[i]) || (!closing && is_digit(s[i])))) return npos;
  const bool timestamp = is_digit(s[i]);
  char quote = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '<' || c == '\n' || c == '\r') return npos;
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      break;
    }
  }
  if (i >= s.size()) return npos;
  int64_t ignored;
  if (timestamp && !parse_time(s.substr(at + 1, i - at - 1), &ignored)) return npos;
  return i;
}

// WebVTT cue text from markup: <b> <i> <u> kept (bare, lower case: "<I>", "<i.loud>" -> "<i>"),
// every other tag dropped, entities kept, a '<' or '&' that starts neither escaped.
std::string filter_markup(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '<') {
      const size_t close = tag_end(s, i);
      if (close == npos) {
        out += "&lt;";
        ++i;
        continue;
      }
      const bool closing = s[i + 1] == '/';
      const size_t name = i + 1 + (closing ? 1 : 0);
      size_t name_end = name;
      while (name_end < close && is_alnum(s[name_end])) ++name_end;
      if (name_end == name + 1 &&
          (lower(s[name]) == 'b' || lower(s[name]) == 'i' || lower(s[name]) == 'u')) {
        out += closing ? "</" : "<";
        out += lower(s[name]);
        out += '>';
      }
      i = close + 1;
    } else if (c == '&') {
      const size_t n = entity_length(s, i);
      if (n > 0) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "&amp;";
        ++i;
      }
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

// Drops "{...}" blocks: ASS override tags and comments, or in SRT only "{\...}" (the {\an8}
// some SRT writers copy from ASS; other braces are ordinary text there). An unterminated block
// stays, as renderers show it.
std::string drop_braces(std::string_view s, bool backslash_only) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '{' && (!backslash_only || (i + 1 < s.size() && s[i + 1] == '\\'))) {
      const size_t close = s.find('}', i + 1);
      if (close == npos) {
        out.append(s.substr(i));
        break;
      }
      i = close + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// ASS Text column as WebVTT cue text. ASS has no markup or entities, so every '<' and '&' is
// literal text and gets escaped.
std::string ass_text(std::string_view field) {
  const std::string s = drop_braces(field, false);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == 'N' || s[i + 1] == 'n')) {
      out += '\n';
      ++i;
    } else if (c == '\\' && i + 1 < s.size() && s[i + 1] == 'h') {
      out += ' ';
      ++i;
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '&') {
      out += "&amp;";
    } else {
      out += c;
    }
  }
  return tidy_lines(out);
}

// Whether cue text shows anything: a cue of only tags and spaces is as good as empty.
bool has_visible_text(std::string_view text) {
  bool in_tag = false;
  for (char c : text) {
    if (in_tag) {
      in_tag = c != '>';
    } else if (c == '<') {
      in_tag = true;
    } else if (!is_space(c) && c != '\n') {
      return true;
    }
  }
  return false;
}

void add_cue(int64_t start, int64_t end, std::string text, std::vector<Cue>* cues) {
  if (end <= start || !has_visible_text(text)) return;
  cues->push_back(Cue{start, end, std::move(text)});
}

std::string join_lines(const std::vector<std::string_view>& lines, size_t from, size_t to) {
  std::string out;
  for (size_t k = from; k < to; ++k) {
    if (k > from) out += '\n';
    out.append(lines[k]);
  }
  return out;
}

size_t skip_block(const std::vector<std::string_view>& lines, size_t i) {
  while (i < lines.size() && !blank(lines[i])) ++i;
  return i;
}

// A block that starts with a keyword line: "NOTE", "NOTE text", "STYLE", "REGION".
bool is_keyword_line(std::string_view line, std::string_view word) {
  return line.substr(0, word.size()) == word &&
         (line.size() == word.size() || is_space(line[word.size()]));
}

bool parse_webvtt(const std::vector<std::string_view>& lines, size_t first, std::vector<Cue>* cues,
                  std::string* error) {
  const size_t n = lines.size();
  // The header block ("WEBVTT", then metadata such as "Kind: captions") ends at a blank line,
  // or at a timing line for files that leave the blank line out.
  size_t i = first + 1;
  while (i < n && !blank(lines[i]) && !contains(lines[i], "-->")) ++i;
  while (i < n) {
    if (blank(lines[i])) {
      ++i;
      continue;
    }
    if (is_keyword_line(lines[i], "NOTE") || is_keyword_line(lines[i], "STYLE") ||
        is_keyword_line(lines[i], "REGION")) {
      i = skip_block(lines, i);
      continue;
    }
    const bool has_next = i + 1 < n && !blank(lines[i + 1]);
    size_t timing;
    if (contains(lines[i], "-->")) {
      timing = i;
    } else if (has_next && contains(lines[i + 1], "-->")) {
      timing = i + 1;  // lines[i] is the cue identifier
    } else {
      if (looks_like_timing(lines[i])) {
        *error = bad_timing(i, lines[i]);
        return false;
      }
      if (has_next && looks_like_timing(lines[i + 1])) {
        *error = bad_timing(i + 1, lines[i + 1]);
        return false;
      }
      i = skip_block(lines, i);  // neither a cue nor a known block: ignored, as players do
      continue;
    }
    int64_t start, end;
    if (!parse_timing(lines[timing], &start, &end)) {
      *error = bad_timing(timing, lines[timing]);
      return false;
    }
    // The payload ends at a blank line, or at a line with "-->" (no cue text may hold one).
    size_t j = timing + 1;
    while (j < n && !blank(lines[j]) && !contains(lines[j], "-->")) ++j;
    add_cue(start, end, tidy_lines(filter_markup(join_lines(lines, timing + 1, j))), cues);
    i = j;
  }
  return true;
}

bool parse_srt(const std::vector<std::string_view>& lines, std::vector<Cue>* cues,
               std::string* error) {
  const size_t n = lines.size();
  // A cue starts at its number followed by a timing line, or at a timing line alone (some
  // writers leave the numbers out).
  auto cue_starts = [&](size_t k) {
    return is_integer(lines[k]) && k + 1 < n && contains(lines[k + 1], "-->");
  };
  size_t i = 0;
  while (i < n) {
    if (blank(lines[i])) {
      ++i;
      continue;
    }
    size_t timing;
    if (cue_starts(i)) {
      timing = i + 1;
    } else if (contains(lines[i], "-->")) {
      timing = i;
    } else if (is_integer(lines[i]) && i + 1 < n && looks_like_timing(lines[i + 1])) {
      *error = bad_timing(i + 1, lines[i + 1]);
      return false;
    } else {
      i = skip_block(lines, i);  // stray text, e.g. after a blank line inside a cue
      continue;
    }
    int64_t start, end;
    if (!parse_timing(lines[timing], &start, &end)) {
      *error = bad_timing(timing, lines[timing]);
      return false;
    }
    // The text ends at a blank line, or where the next cue starts without one before it.
    size_t j = timing + 1;
    while (j < n && !blank(lines[j]) && !contains(lines[j], "-->") && !cue_starts(j)) ++j;
    const std::string text = drop_braces(join_lines(lines, timing + 1, j), true);
    add_cue(start, end, tidy_lines(filter_markup(text)), cues);
    i = j;
  }
  return true;
}

// Splits at ',' into at most `count` fields, the last keeping the rest (ASS Text has commas).
std::vector<std::string_view> split_fields(std::string_view s, size_t count) {
  std::vector<std::string_view> fields;
  while (fields.size() + 1 < count) {
    const size_t comma = s.find(',');
    if (comma == npos) break;
    fields.push_back(s.substr(0, comma));
    s.remove_prefix(comma + 1);
  }
  fields.push_back(s);
  return fields;
}

bool parse_ass(const std::vector<std::string_view>& lines, std::vector<Cue>* cues,
               std::string* error) {
  // Columns of [Events] in ASS v4+ and SSA v4 alike ("Layer"/"Marked", Start, End, Style, Name,
  // MarginL, MarginR, MarginV, Effect, Text), for files without a Format line.
  size_t columns = 10, start_col = 1, end_col = 2, text_col = 9;
  // Styles sections have Format lines of their own; Fonts and Graphics hold encoded data.
  bool events = true;
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::string_view line = trim(lines[k]);
    if (!line.empty() && line[0] == '[') {
      std::string name;
      for (char c : line) name += lower(c);
      events = !contains(name, "styles") && name != "[fonts]" && name != "[graphics]";
      continue;
    }
    if (!events) continue;
    if (starts_with_ci(line, "format:")) {
      const std::vector<std::string_view> names = split_fields(line.substr(7), npos);
      size_t found[3] = {npos, npos, npos};
      for (size_t c = 0; c < names.size(); ++c) {
        const std::string_view name = trim(names[c]);
        if (equals_ci(name, "start")) found[0] = c;
        if (equals_ci(name, "end")) found[1] = c;
        if (equals_ci(name, "text")) found[2] = c;
      }
      if (found[0] != npos && found[1] != npos && found[2] != npos) {
        columns = names.size();
        start_col = found[0];
        end_col = found[1];
        text_col = found[2];
      }
    } else if (starts_with_ci(line, "dialogue:")) {
      const std::vector<std::string_view> fields = split_fields(line.substr(9), columns);
      if (fields.size() < columns) continue;  // a truncated line has no Text to show
      int64_t start, end;
      if (!parse_time(trim(fields[start_col]), &start)) {
        *error = bad_timing(k, fields[start_col]);
        return false;
      }
      if (!parse_time(trim(fields[end_col]), &end)) {
        *error = bad_timing(k, fields[end_col]);
        return false;
      }
      add_cue(start, end, ass_text(fields[text_col]), cues);
    }
  }
  return true;
}

// Index of the first non-blank line, lines.size() when there is none.
size_t first_line(const std::vector<std::string_view>& lines) {
  size_t first = 0;
  while (first < lines.size() && blank(lines[first])) ++first;
  return first;
}

SubtitleFormat detect(const std::vector<std::string_view>& lines) {
  const size_t first = first_line(lines);
  if (first == lines.size()) return SubtitleFormat::kUnknown;
  const std::string_view head = lines[first];
  if (head.substr(0, 6) == "WEBVTT") return SubtitleFormat::kWebVtt;
  int64_t start, end;
  // A number, then something meant as timing: a misspelt first timing line is then reported
  // with its line number rather than as an unknown format.
  if (is_integer(head) && first + 1 < lines.size() &&
      (contains(lines[first + 1], "-->") || looks_like_timing(lines[first + 1])))
    return SubtitleFormat::kSrt;
  if (parse_timing(head, &start, &end)) return SubtitleFormat::kSrt;
  bool section = false, dialogue = false;
  for (std::string_view line : lines) {
    line = trim(line);
    section = section || equals_ci(line, "[script info]") || equals_ci(line, "[events]");
    dialogue = dialogue || starts_with_ci(line, "dialogue:");
  }
  return section && dialogue ? SubtitleFormat::kAss : SubtitleFormat::kUnknown;
}

// No "-->" (it would end the cue) and no blank line (it would end the payload) in cue text.
// Dashes before a '>' shrink to one, so "--->" cannot turn into a new "-->".
std::string safe_cue_text(std::string_view text) {
  // U+FEFF (a byte-order mark astray in the text) shows nothing: dropped wherever it is, so
  // that a line of it alone is blank (else the written cue would be dropped when read again).
  std::string visible(text);
  for (size_t at = visible.find(kBom); at != std::string::npos;
       at = visible.find(kBom, at >= 2 ? at - 2 : 0))
    visible.erase(at, 3);
  std::string out;
  for (char c : tidy_lines(visible)) {
    if (c == '>')
      while (out.size() >= 2 && out[out.size() - 1] == '-' && out[out.size() - 2] == '-')
        out.pop_back();
    out += c;
  }
  return out;
}

// What a cue shows once written: nothing when its safe text is only tags and spaces (a
// byte-order mark between tags, say, is gone once written, and the tags alone show nothing).
bool shows_nothing(std::string_view text) { return !has_visible_text(safe_cue_text(text)); }

// Milliseconds, rounded half up, never negative.
int64_t to_ms(int64_t ns) {
  if (ns <= 0) return 0;
  return ns / kMillisecond + (ns % kMillisecond >= kMillisecond / 2 ? 1 : 0);
}

std::string format_ms(int64_t ms) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld",
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return buf;
}

}  // namespace

SubtitleFormat detect_subtitle_format(const std::string& text) { return detect(split_lines(text)); }

bool parse_subtitles(const std::string& text, std::vector<Cue>* cues, std::string* error) {
  cues->clear();
  // Subtitle files come from anywhere; running out of memory on a huge one is an error too,
  // not an exception through the callers.
  try {
    const std::vector<std::string_view> lines = split_lines(text);
    bool ok = false;
    switch (detect(lines)) {
      case SubtitleFormat::kWebVtt:
        ok = parse_webvtt(lines, first_line(lines), cues, error);
        break;
      case SubtitleFormat::kSrt:
        ok = parse_srt(lines, cues, error);
        break;
      case SubtitleFormat::kAss:
        ok = parse_ass(lines, cues, error);
        break;
      case SubtitleFormat::kUnknown:
        *error = "unknown subtitle format";
        break;
    }
    // A cue with nothing to show (its text only spaces, tags or a stray byte-order mark) is
    // no cue: the WebVTT writer leaves it out, so the parser does too.
    if (ok)
      cues->erase(std::remove_if(cues->begin(), cues->end(),
                                 [](const Cue& c) { return shows_nothing(c.text); }),
                  cues->end());
    if (ok && cues->empty()) {
      *error = "no cue";
      ok = false;
    }
    if (!ok) {
      cues->clear();
      return false;
    }
    std::stable_sort(cues->begin(), cues->end(),
                     [](const Cue& a, const Cue& b) { return a.start_ns < b.start_ns; });
    return true;
  } catch (const std::bad_alloc&) {
    cues->clear();
    *error = "subtitle file too large";
    return false;
  }
}

std::string cue_text_from_markup(const std::string& markup) {
  return tidy_lines(filter_markup(markup));
}

std::string webvtt_segment(const std::vector<Cue>& cues, int64_t start_ns, int64_t end_ns) {
  std::string out = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:" + std::to_string(kTsPtsOffset90k) +
                    ",LOCAL:00:00:00.000\n\n";
  if (end_ns <= start_ns) return out;
  for (const Cue& cue : cues) {
    if (!(cue.end_ns > start_ns && cue.start_ns < end_ns) || cue.end_ns <= cue.start_ns) continue;
    if (shows_nothing(cue.text)) continue;
    const std::string text = safe_cue_text(cue.text);
    // A cue shorter than half a millisecond would round to end == start, which WebVTT forbids.
    const int64_t start_ms = to_ms(cue.start_ns),
                  end_ms = std::max(to_ms(cue.end_ns), start_ms + 1);
    out += format_ms(start_ms) + " --> " + format_ms(end_ms) + "\n" + text + "\n\n";
  }
  return out;
}

std::string webvtt_time(int64_t ns) { return format_ms(to_ms(ns)); }

}  // namespace tws
