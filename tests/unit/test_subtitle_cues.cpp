// SPDX-License-Identifier: LGPL-2.1-or-later
// Subtitle cues: format detection, WebVTT / SRT / ASS parsing (times, text, markup), errors,
// garbage input, and the WebVTT segments written for a subtitle rendition.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "pipelines/subtitle_cues.h"

namespace tws {
namespace {

constexpr int64_t kMs = 1000000;

// "start..end text" per cue, times in ms (ns where not whole), so a mismatch reads at a glance.
std::string Dump(const std::vector<Cue>& cues) {
  auto time = [](int64_t ns) {
    return ns % kMs == 0 ? std::to_string(ns / kMs) : std::to_string(ns) + "ns";
  };
  std::string out;
  for (const Cue& c : cues) out += time(c.start_ns) + ".." + time(c.end_ns) + " " + c.text + "|";
  return out;
}

std::vector<Cue> ParseOk(const std::string& text) {
  std::vector<Cue> cues;
  std::string error;
  EXPECT_TRUE(parse_subtitles(text, &cues, &error)) << error;
  return cues;
}

std::string ParseError(const std::string& text) {
  std::vector<Cue> cues{Cue{0, 1, "stale"}};
  std::string error;
  EXPECT_FALSE(parse_subtitles(text, &cues, &error));
  EXPECT_TRUE(cues.empty());
  return error;
}

Cue MakeCue(int64_t start_ms, int64_t end_ms, std::string text) {
  return Cue{start_ms * kMs, end_ms * kMs, std::move(text)};
}

const char kHeader[] = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n";

// ---- detection ----

TEST(SubtitleFormat, Detects) {
  EXPECT_EQ(detect_subtitle_format("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n"),
            SubtitleFormat::kWebVtt);
  EXPECT_EQ(detect_subtitle_format("\xEF\xBB\xBFWEBVTT\r\n\r\n"), SubtitleFormat::kWebVtt);
  EXPECT_EQ(detect_subtitle_format("WEBVTT - title\n"), SubtitleFormat::kWebVtt);
  EXPECT_EQ(detect_subtitle_format("1\n00:00:01,000 --> 00:00:02,500\nHi\n"), SubtitleFormat::kSrt);
  EXPECT_EQ(detect_subtitle_format("\xEF\xBB\xBF\r\n1\r\n00:00:01.000 --> 00:00:02.500\r\nHi\r\n"),
            SubtitleFormat::kSrt);
  EXPECT_EQ(detect_subtitle_format("[Script Info]\nTitle: x\n\n[Events]\n"
                                   "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hi\n"),
            SubtitleFormat::kAss);
  EXPECT_EQ(detect_subtitle_format("[Events]\r\nDialogue: Marked=0,0:00:01.00,0:00:02.00,,,,,,,"
                                   "Hi\r\n"),
            SubtitleFormat::kAss);
}

TEST(SubtitleFormat, Unknown) {
  EXPECT_EQ(detect_subtitle_format(""), SubtitleFormat::kUnknown);
  EXPECT_EQ(detect_subtitle_format("\xEF\xBB\xBF"), SubtitleFormat::kUnknown);
  EXPECT_EQ(detect_subtitle_format("just some text\nand more\n"), SubtitleFormat::kUnknown);
  EXPECT_EQ(detect_subtitle_format("1\nnot a timing line\n"), SubtitleFormat::kUnknown);
  EXPECT_EQ(detect_subtitle_format("webvtt\n"), SubtitleFormat::kUnknown);
  // An ASS section without dialogue, and dialogue without a section, are not enough.
  EXPECT_EQ(detect_subtitle_format("[Script Info]\nTitle: x\n"), SubtitleFormat::kUnknown);
  EXPECT_EQ(detect_subtitle_format("Dialogue: 0,0:00:01.00,0:00:02.00,,,,,,,Hi\n"),
            SubtitleFormat::kUnknown);
}

// ---- WebVTT ----

TEST(SubtitleCues, WebVtt) {
  const std::vector<Cue> cues = ParseOk(
      "WEBVTT - a title\n"
      "Kind: captions\n"
      "\n"
      "NOTE a comment\n"
      "that spans lines 00:00:09.000 --> 00:00:10.000\n"
      "\n"
      "STYLE\n"
      "::cue { color: yellow }\n"
      "\n"
      "REGION\n"
      "id:top width:40%\n"
      "\n"
      "1\n"
      "00:00:01.000 --> 00:00:02.500 align:start line:10%\n"
      "Hello <c.yellow>there</c>\n"
      "\n"
      "intro\n"
      "00:03.250 --> 00:04.000\n"
      "<v Bob>Two</v>\n"
      "<i.loud>lines</i> &amp; more\n"
      "\n"
      "01:00:00.000 --> 01:00:01.5\n"
      "<b>Late</b> <00:00:00.500>karaoke\n");
  EXPECT_EQ(Dump(cues),
            "1000..2500 Hello there|"
            "3250..4000 Two\n<i>lines</i> &amp; more|"
            "3600000..3601500 <b>Late</b> karaoke|");
}

TEST(SubtitleCues, WebVttCrlfAndBom) {
  const std::vector<Cue> cues = ParseOk(
      "\xEF\xBB\xBFWEBVTT\r\n\r\n"
      "00:00:01.000 --> 00:00:02.000\r\n"
      "First line\r\n"
      "  second line  \r\n"
      "\r\n"
      "cue-2\r\n"
      "00:02.000 --> 00:03.000 position:50%\r\n"
      "Next\r\n");
  EXPECT_EQ(Dump(cues), "1000..2000 First line\nsecond line|2000..3000 Next|");
}

TEST(SubtitleCues, WebVttWithoutBlankLines) {
  // Writers that leave out the blank lines: a timing line ends the header and the cue before.
  const std::vector<Cue> cues = ParseOk(
      "WEBVTT\n"
      "00:00:01.000 --> 00:00:02.000\n"
      "A\n"
      "00:00:02.000 --> 00:00:03.000\n"
      "B\n");
  EXPECT_EQ(Dump(cues), "1000..2000 A|2000..3000 B|");
}

// ---- SRT ----

TEST(SubtitleCues, Srt) {
  const std::vector<Cue> cues = ParseOk(
      "1\n"
      "00:00:01,000 --> 00:00:02,500\n"
      "<i>Hello</i>\n"
      "<font color=\"#ff0000\">world</font>\n"
      "\n"
      "2\n"
      "00:00:03.000 --> 00:00:04.000 X1:10 X2:20 Y1:30 Y2:40\n"
      "{\\an8}Top <B>bold</B> & <u>under</u>\n"
      "\n"
      "3\n"
      "01:02:03,004 --> 01:02:05,000\n"
      "a < b {not a tag}\n");
  EXPECT_EQ(Dump(cues),
            "1000..2500 <i>Hello</i>\nworld|"
            "3000..4000 Top <b>bold</b> &amp; <u>under</u>|"
            "3723004..3725000 a &lt; b {not a tag}|");
}

TEST(SubtitleCues, SrtCrlfAndBom) {
  const std::vector<Cue> cues = ParseOk(
      "\xEF\xBB\xBF"
      "1\r\n"
      "00:00:01,000 --> 00:00:02,000\r\n"
      "Line one\r\n"
      "Line two\r\n"
      "\r\n"
      "2\r\n"
      "00:00:02,000 --> 00:00:03,000\r\n"
      "Next\r\n"
      "\r\n");
  EXPECT_EQ(Dump(cues), "1000..2000 Line one\nLine two|2000..3000 Next|");
}

TEST(SubtitleCues, SrtLenientBlocks) {
  // A cue without a blank line before the next number, one without a number, a blank line
  // inside a cue (the stray rest is skipped), and a number that is cue text.
  const std::vector<Cue> cues = ParseOk(
      "1\n"
      "00:00:01,000 --> 00:00:02,000\n"
      "A\n"
      "2\n"
      "00:00:02,000 --> 00:00:03,000\n"
      "B\n"
      "\n"
      "00:00:03,000 --> 00:00:04,000\n"
      "C\n"
      "\n"
      "stray\n"
      "\n"
      "4\n"
      "00:00:04,000 --> 00:00:05,000\n"
      "42\n");
  EXPECT_EQ(Dump(cues), "1000..2000 A|2000..3000 B|3000..4000 C|4000..5000 42|");
}

// ---- ASS / SSA ----

TEST(SubtitleCues, Ass) {
  const std::vector<Cue> cues = ParseOk(
      "[Script Info]\n"
      "Title: test\n"
      "ScriptType: v4.00+\n"
      "\n"
      "[V4+ Styles]\n"
      "Format: Name, Fontname, Fontsize, Start, End, Text\n"
      "Style: Default,Arial,20,&H00FFFFFF,0,0,2\n"
      "\n"
      "[Events]\n"
      "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
      "Comment: 0,0:00:00.00,0:00:09.00,Default,,0,0,0,,a comment\n"
      "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,Hello, world, again\n"
      "Dialogue: 0,0:00:03.10,0:00:04.00,Default,Bob,0,0,0,,{\\i1}Italic{\\i0} text\\Nsecond "
      "line{comment}\n"
      "Dialogue: 0,1:02:03.45,1:02:04.00,Default,,0,0,0,,one\\hword\\nbreak <3 & co\n"
      "Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\pos(10,20)}\n");
  EXPECT_EQ(Dump(cues),
            "1000..2500 Hello, world, again|"
            "3100..4000 Italic text\nsecond line|"
            "3723450..3724000 one word\nbreak &lt;3 &amp; co|");
}

TEST(SubtitleCues, AssFormatColumns) {
  // The Format line decides where Start, End and Text are.
  const std::vector<Cue> cues = ParseOk(
      "[Events]\r\n"
      "Format: Layer, Style, Start, End, Text\r\n"
      "Dialogue: 0,Default,0:00:01.00,0:00:02.00,x, y, z\r\n");
  EXPECT_EQ(Dump(cues), "1000..2000 x, y, z|");
}

TEST(SubtitleCues, SsaWithoutFormat) {
  const std::vector<Cue> cues = ParseOk(
      "[Script Info]\n"
      "ScriptType: v4.00\n"
      "\n"
      "[Events]\n"
      "Dialogue: Marked=0,0:00:01.5,0:00:02.25,Default,NTP,0000,0000,0000,,Hi, there\n");
  EXPECT_EQ(Dump(cues), "1500..2250 Hi, there|");
}

// ---- order, dropped cues, errors ----

TEST(SubtitleCues, SortedByStartStable) {
  const std::vector<Cue> cues = ParseOk(
      "1\n00:00:05,000 --> 00:00:06,000\nlast\n\n"
      "2\n00:00:01,000 --> 00:00:03,000\nfirst\n\n"
      "3\n00:00:00,500 --> 00:00:09,000\nearliest\n\n"
      "4\n00:00:01,000 --> 00:00:02,000\nsecond\n");
  EXPECT_EQ(Dump(cues), "500..9000 earliest|1000..3000 first|1000..2000 second|5000..6000 last|");
}

TEST(SubtitleCues, DropsEmptyAndBackwardCues) {
  const std::vector<Cue> cues = ParseOk(
      "WEBVTT\n\n"
      "00:00:02.000 --> 00:00:02.000\nzero length\n\n"
      "00:00:03.000 --> 00:00:01.000\nbackwards\n\n"
      "00:00:04.000 --> 00:00:05.000\n\n"
      "00:00:05.000 --> 00:00:06.000\n<c>  </c>\n\n"
      "00:00:06.000 --> 00:00:07.000\nkept\n");
  EXPECT_EQ(Dump(cues), "6000..7000 kept|");
}

TEST(SubtitleCues, Errors) {
  EXPECT_EQ(ParseError(""), "unknown subtitle format");
  EXPECT_EQ(ParseError("just some text\n"), "unknown subtitle format");
  EXPECT_EQ(ParseError("WEBVTT\n\nNOTE nothing here\n"), "no cue");
  EXPECT_EQ(ParseError("WEBVTT\n\n00:00:01.000 --> 00:00:01.000\nzero\n"), "no cue");
  EXPECT_EQ(ParseError("1\n00:00:01,000 --> 00:00:02,000\n<font color=red></font>\n"), "no cue");
  EXPECT_EQ(ParseError("[Events]\nComment: 0,0:00:01.00,0:00:02.00,,,0,0,0,,x\n"
                       "Dialogue: 0,0:00:01.00,0:00:02.00,,,0,0,0,,{\\b1}\n"),
            "no cue");
}

TEST(SubtitleCues, BadTimingNamesTheLine) {
  EXPECT_EQ(ParseError("WEBVTT\n\n"
                       "00:01.000 --> 00:02.000\nA\n\n"
                       "id\n"
                       "00:01 -> 00:02\n"
                       "B\n"),
            "line 7: bad timing \"00:01 -> 00:02\"");
  EXPECT_EQ(ParseError("WEBVTT\n\n00:00:01.000 --> 00:00:61.000\nA\n"),
            "line 3: bad timing \"00:00:01.000 --> 00:00:61.000\"");
  EXPECT_EQ(ParseError("1\r\n00:00:01,000 --> 00:00:02,000\r\nA\r\n\r\n"
                       "2\r\n00:00:0x,000 --> 00:00:04,000\r\nB\r\n"),
            "line 6: bad timing \"00:00:0x,000 --> 00:00:04,000\"");
  // A misspelt first timing line still makes the file SRT, so its line is named.
  EXPECT_EQ(ParseError("\n1\n00:00:01,000 -> 00:00:02,000\nA\n"),
            "line 3: bad timing \"00:00:01,000 -> 00:00:02,000\"");
  EXPECT_EQ(ParseError("[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,,,0,0,0,,ok\n"
                       "Dialogue: 0,0:00:aa.00,0:00:02.00,,,0,0,0,,x\n"),
            "line 3: bad timing \"0:00:aa.00\"");
  // Long or binary lines are cut and cleaned so the reason stays one readable line.
  const std::string error =
      ParseError("WEBVTT\n\n00:00:01.000 --> " + std::string(200, '9') + "\x01\nA\n");
  EXPECT_EQ(error, "line 3: bad timing \"00:00:01.000 --> " + std::string(43, '9') + "...\"");
}

// Random bytes, and random mixes of the characters the parsers look at, after each format's
// header: parsing never crashes, and what it returns keeps the promised invariants.
TEST(SubtitleCues, GarbageDoesNotCrash) {
  const std::string alphabet = "0123456789:.,-> \t\r\n<>/&;#{}\\NhbiuWEBVTTDialogue[Events]";
  const std::vector<std::string> prefixes = {"", "WEBVTT\n\n", "1\n",
                                             "[Events]\nDialogue: ", "\xEF\xBB\xBF"};
  std::mt19937 rng(12345);
  for (int round = 0; round < 400; ++round) {
    const size_t length = rng() % 2048;
    std::string text = prefixes[rng() % prefixes.size()];
    for (size_t k = 0; k < length; ++k)
      text += round % 2 ? char(rng() % 256) : alphabet[rng() % alphabet.size()];
    std::vector<Cue> cues;
    std::string error;
    if (parse_subtitles(text, &cues, &error)) {
      ASSERT_FALSE(cues.empty());
      for (size_t k = 0; k < cues.size(); ++k) {
        ASSERT_GT(cues[k].end_ns, cues[k].start_ns);
        ASSERT_GE(cues[k].start_ns, 0);
        ASSERT_FALSE(cues[k].text.empty());
        if (k > 0) {
          ASSERT_LE(cues[k - 1].start_ns, cues[k].start_ns);
        }
      }
      webvtt_segment(cues, 0, std::numeric_limits<int64_t>::max());
    } else {
      ASSERT_FALSE(error.empty());
      ASSERT_EQ(error.find('\n'), std::string::npos);
    }
    cue_text_from_markup(text);
  }
  // Inputs built to make a careless scanner go quadratic; these return at once.
  for (const char* piece : {"<a \"", "{\\", "&#", "--->", "<", "1\n", "0:00:01.00,"}) {
    std::string text;
    while (text.size() < 200000) text += piece;
    std::vector<Cue> cues;
    std::string error;
    parse_subtitles("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + text, &cues, &error);
    parse_subtitles("[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,,,0,0,0,," + text, &cues, &error);
    parse_subtitles(text, &cues, &error);
    cue_text_from_markup(text);
    webvtt_segment({Cue{0, 1000, text}}, 0, 1000);
  }
}

// ---- GStreamer text buffers ----

TEST(CueText, FromMarkup) {
  EXPECT_EQ(cue_text_from_markup("<span foreground=\"red\"><i>Hi</i></span>"), "<i>Hi</i>");
  EXPECT_EQ(cue_text_from_markup("<span font_desc='Sans 12' foreground=\"a>b\">x</span>"), "x");
  EXPECT_EQ(cue_text_from_markup("<b>bold</b> <u>u</u> <s>strike</s> <tt>tt</tt> <big>big</big>"),
            "<b>bold</b> <u>u</u> strike tt big");
  EXPECT_EQ(cue_text_from_markup("<I>Up</I>"), "<i>Up</i>");
  EXPECT_EQ(cue_text_from_markup("x <i>unclosed"), "x <i>unclosed");
}

TEST(CueText, EntitiesAndBareCharacters) {
  EXPECT_EQ(cue_text_from_markup("Tom &amp; Jerry &lt;3 &gt; &#38; &#x26; &nbsp;"),
            "Tom &amp; Jerry &lt;3 &gt; &#38; &#x26; &nbsp;");
  EXPECT_EQ(cue_text_from_markup("a < b && c"), "a &lt; b &amp;&amp; c");
  EXPECT_EQ(cue_text_from_markup("AT&T 3<4 <i"), "AT&amp;T 3&lt;4 &lt;i");
  EXPECT_EQ(cue_text_from_markup("& ; &#; &#xZ;"), "&amp; ; &amp;#; &amp;#xZ;");
  EXPECT_EQ(cue_text_from_markup("Gr\u00fc\u00dfe 5 > 3"), "Gr\u00fc\u00dfe 5 > 3");
}

TEST(CueText, LinesTrimmedAndBlankLinesRemoved) {
  EXPECT_EQ(cue_text_from_markup("  line one  \n\n   \n<span>  </span>\nline two\r\n"),
            "line one\nline two");
  EXPECT_EQ(cue_text_from_markup("a\r\nb"), "a\nb");
  EXPECT_EQ(cue_text_from_markup(""), "");
  EXPECT_EQ(cue_text_from_markup("<span>\n</span>"), "");
}

// ---- WebVTT segments ----

TEST(WebVttSegment, HeaderOnly) {
  EXPECT_EQ(webvtt_segment({}, 0, 10 * 1000 * kMs), kHeader);
  EXPECT_EQ(webvtt_segment({MakeCue(20000, 21000, "later")}, 0, 10000 * kMs), kHeader);
  // An empty range holds no cue, even one that spans it.
  EXPECT_EQ(webvtt_segment({MakeCue(0, 30000, "long")}, 10000 * kMs, 10000 * kMs), kHeader);
  EXPECT_EQ(kTsPtsOffset90k, 900000);
}

TEST(WebVttSegment, OverlapRules) {
  const std::vector<Cue> cues = {
      MakeCue(1000, 3000, "A"),
      MakeCue(5000, 10000, "ends at the boundary"),
      MakeCue(9500, 10500, "across"),
      MakeCue(10000, 12000, "starts at the boundary"),
      MakeCue(19999, 25000, "into the third"),
  };
  EXPECT_EQ(webvtt_segment(cues, 0, 10000 * kMs),
            std::string(kHeader) +
                "00:00:01.000 --> 00:00:03.000\nA\n\n"
                "00:00:05.000 --> 00:00:10.000\nends at the boundary\n\n"
                "00:00:09.500 --> 00:00:10.500\nacross\n\n");
  // The cue across 10 s shows again, with its own times; the one ending at 10 s does not.
  EXPECT_EQ(webvtt_segment(cues, 10000 * kMs, 20000 * kMs),
            std::string(kHeader) +
                "00:00:09.500 --> 00:00:10.500\nacross\n\n"
                "00:00:10.000 --> 00:00:12.000\nstarts at the boundary\n\n"
                "00:00:19.999 --> 00:00:25.000\ninto the third\n\n");
  EXPECT_EQ(webvtt_segment(cues, 20000 * kMs, 30000 * kMs),
            std::string(kHeader) + "00:00:19.999 --> 00:00:25.000\ninto the third\n\n");
  // One nanosecond of overlap is enough.
  EXPECT_EQ(webvtt_segment(cues, 12000 * kMs - 1, 12000 * kMs),
            std::string(kHeader) + "00:00:10.000 --> 00:00:12.000\nstarts at the boundary\n\n");
}

TEST(WebVttSegment, SafeCueText) {
  const std::vector<Cue> cues = {
      MakeCue(1000, 2000, "a --> b\n\n  \nc--->d\r\n"),
      MakeCue(2000, 3000, " \n "),
      Cue{3000 * kMs, 3000 * kMs + 100, "short"},
      Cue{-500 * kMs, 4000 * kMs, "before zero"},
  };
  EXPECT_EQ(webvtt_segment(cues, 0, 10000 * kMs),
            std::string(kHeader) +
                "00:00:01.000 --> 00:00:02.000\na -> b\nc->d\n\n"
                "00:00:03.000 --> 00:00:03.001\nshort\n\n"
                "00:00:00.000 --> 00:00:04.000\nbefore zero\n\n");
}

TEST(WebVttSegment, ParsedCuesRoundTrip) {
  const std::vector<Cue> cues = ParseOk(
      "1\r\n00:00:01,000 --> 00:00:04,000\r\n<font face=x>Hello</font> &\r\n<i>there</i>\r\n");
  EXPECT_EQ(webvtt_segment(cues, 2000 * kMs, 6000 * kMs),
            std::string(kHeader) + "00:00:01.000 --> 00:00:04.000\nHello &amp;\n<i>there</i>\n\n");
}

// ---- times ----

TEST(WebVttTime, Formats) {
  EXPECT_EQ(webvtt_time(0), "00:00:00.000");
  EXPECT_EQ(webvtt_time(1 * kMs), "00:00:00.001");
  EXPECT_EQ(webvtt_time(61001 * kMs), "00:01:01.001");
  EXPECT_EQ(webvtt_time(3723004 * kMs), "01:02:03.004");
  EXPECT_EQ(webvtt_time(int64_t(99) * 3600000 * kMs + 3599999 * kMs), "99:59:59.999");
  EXPECT_EQ(webvtt_time(int64_t(100) * 3600000 * kMs), "100:00:00.000");
  EXPECT_EQ(webvtt_time(std::numeric_limits<int64_t>::max()), "2562047:47:16.855");
}

TEST(WebVttTime, RoundsHalfUpNeverNegative) {
  EXPECT_EQ(webvtt_time(1000499999), "00:00:01.000");
  EXPECT_EQ(webvtt_time(1000500000), "00:00:01.001");
  EXPECT_EQ(webvtt_time(1234567890), "00:00:01.235");
  EXPECT_EQ(webvtt_time(999999999), "00:00:01.000");
  EXPECT_EQ(webvtt_time(int64_t(3599999) * kMs + 500000), "01:00:00.000");
  EXPECT_EQ(webvtt_time(499999), "00:00:00.000");
  EXPECT_EQ(webvtt_time(-1), "00:00:00.000");
  EXPECT_EQ(webvtt_time(-5000 * kMs), "00:00:00.000");
  EXPECT_EQ(webvtt_time(std::numeric_limits<int64_t>::min()), "00:00:00.000");
}

}  // namespace
}  // namespace tws

namespace tws {
namespace {

// A cue whose text is nothing to show (here a lone byte-order mark after ASS tags are gone)
// is no cue: the parser drops it as the WebVTT writer does, so what is written parses again
// into the same cues (a fuzz finding).
TEST(SubtitleCues, CueWithNothingToShowIsDropped) {
  const std::string ass =
      "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
      "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
      "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Hi{\\i0}\\Nthere\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\i1}\\N\xEF\xBB\xBF\n";
  std::vector<Cue> cues;
  std::string error;
  ASSERT_TRUE(parse_subtitles(ass, &cues, &error)) << error;
  ASSERT_EQ(cues.size(), 1u);
  std::vector<Cue> again;
  ASSERT_TRUE(parse_subtitles(webvtt_segment(cues, 0, int64_t(10) * 1000000000), &again, &error));
  EXPECT_EQ(again.size(), cues.size());
  // Only such cues: no cue at all.
  const std::string empty =
      "[Script Info]\n\n[Events]\n"
      "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\i1}\xEF\xBB\xBF\n";
  EXPECT_FALSE(parse_subtitles(empty, &cues, &error));
  EXPECT_EQ(error, "no cue");
}

// A byte-order mark inside a cue's text shows nothing wherever it is: a cue of two lines that
// are each a lone mark is as empty as one (a fuzz finding: the writer kept one line of it,
// which read again was a BOM before "line 1" and so nothing, and the cue went missing).
TEST(SubtitleCues, ByteOrderMarksInsideTextShowNothing) {
  const std::string ass =
      "[Script Info]\n\n[Events]\n"
      "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
      "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,Hi\\N\xEF\xBB\xBF\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,\xEF\xBB\xBF\\N\xEF\xBB\xBF\n"
      "Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,th\xEF\xBB\xBF"
      "ere\n";
  std::vector<Cue> cues;
  std::string error;
  ASSERT_TRUE(parse_subtitles(ass, &cues, &error)) << error;
  const std::string vtt = webvtt_segment(cues, 0, int64_t(10) * 1000000000);
  EXPECT_EQ(vtt.find("\xEF\xBB\xBF"), std::string::npos) << vtt;
  EXPECT_NE(vtt.find("\nHi\n"), std::string::npos) << vtt;
  EXPECT_NE(vtt.find("\nthere\n"), std::string::npos) << vtt;
  std::vector<Cue> again;
  ASSERT_TRUE(parse_subtitles(vtt, &again, &error)) << error;
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(again.size(), cues.size());
}

TEST(SubtitleCues, TagsAroundAByteOrderMarkShowNothing) {
  // Fuzz finding: "<i>" then a BOM was a cue (the BOM counted as text) written as "<i>",
  // which read again was no cue.
  const std::string srt =
      "1\n00:00:01,000 --> 00:00:02,000\n<i>\xEF\xBB\xBF\n\n"
      "2\n00:00:03,000 --> 00:00:04,000\n<i>\xEF\xBB\xBF</i> \xEF\xBB\xBF\n\n"
      "3\n00:00:05,000 --> 00:00:06,000\n<i>\xEF\xBB\xBFyes</i>\n";
  std::vector<Cue> cues;
  std::string error;
  ASSERT_TRUE(parse_subtitles(srt, &cues, &error)) << error;
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(cues[0].start_ns, int64_t(5) * 1000000000);
  const std::string vtt = webvtt_segment(cues, 0, int64_t(10) * 1000000000);
  EXPECT_NE(vtt.find("\n<i>yes</i>\n"), std::string::npos) << vtt;
  std::vector<Cue> again;
  ASSERT_TRUE(parse_subtitles(vtt, &again, &error)) << error;
  EXPECT_EQ(again.size(), cues.size());
}

}  // namespace
}  // namespace tws
