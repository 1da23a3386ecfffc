// SPDX-License-Identifier: BSD-3-Clause
#include "tests/conformance/transcript.h"

#include <charconv>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/testutil/escape.h"
#include "tests/testutil/temp_dir.h"

namespace warmcache::conformance {

namespace {

constexpr size_t kMaxRepeatBytes = 16 << 20;

bool ParseInt(std::string_view text, int64_t* out) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

// One ${...} body, without the braces.
Result<std::string> ExpandOne(std::string_view body, const Context& context) {
  const int64_t now = context.now;
  int64_t group = 0;
  if (ParseInt(body, &group) && body[0] != '+' && body[0] != '-') {
    if (context.captures == nullptr) return std::string("0");
    if (group < 1 || static_cast<size_t>(group) >= context.captures->size()) {
      return Status::InvalidArgument("${" + std::string(body) + "}: no such capture group");
    }
    return (*context.captures)[static_cast<size_t>(group)];
  }
  if (body == "now") return std::to_string(now);
  if (body.size() > 4 && body.substr(0, 3) == "now" && (body[3] == '+' || body[3] == '-')) {
    int64_t offset = 0;
    if (!ParseInt(body.substr(4), &offset)) return Status::InvalidArgument("bad ${now±N}");
    return std::to_string(body[3] == '+' ? now + offset : now - offset);
  }
  if (body.substr(0, 4) == "rep ") {
    std::string_view rest = body.substr(4);
    size_t space = rest.find(' ');
    int64_t count = 0;
    if (space == std::string_view::npos || !ParseInt(rest.substr(0, space), &count) || count < 0) {
      return Status::InvalidArgument("bad ${rep N TEXT}");
    }
    std::string_view unit = rest.substr(space + 1);
    if (static_cast<size_t>(count) * unit.size() > kMaxRepeatBytes) {
      return Status::InvalidArgument("${rep} result over 16 MiB");
    }
    std::string out;
    out.reserve(static_cast<size_t>(count) * unit.size());
    for (int64_t i = 0; i < count; ++i) out += unit;
    return out;
  }
  return Status::InvalidArgument("unknown ${" + std::string(body) + "}");
}

// Splits "PREFIX payload": the payload is everything after the prefix and one space.
bool TakePayload(std::string_view line, std::string_view prefix, std::string* payload) {
  if (line == prefix) {
    payload->clear();
    return true;
  }
  if (line.size() > prefix.size() && line.substr(0, prefix.size()) == prefix &&
      line[prefix.size()] == ' ') {
    *payload = std::string(line.substr(prefix.size() + 1));
    return true;
  }
  return false;
}

Status ParseDirective(std::string_view comment, Transcript* t) {
  constexpr std::string_view kArgs = "args:";
  constexpr std::string_view kKnown = "known-difference:";
  if (comment.substr(0, kArgs.size()) == kArgs) {
    for (auto& word : SplitWords(comment.substr(kArgs.size()))) t->extra_args.push_back(word);
  } else if (comment.substr(0, kKnown.size()) == kKnown) {
    auto words = SplitWords(comment.substr(kKnown.size()));
    if (words.empty()) return Status::InvalidArgument("known-difference needs a reason");
    t->known_difference = std::string(comment.substr(kKnown.size() + 1));
  }
  return Status::Ok();
}

Result<Step> ParseStep(std::string_view line) {
  Step step;
  std::string payload;
  if (TakePayload(line, ">>", &payload)) {
    step = {StepKind::kSend, payload, false};
  } else if (TakePayload(line, ">", &payload)) {
    step = {StepKind::kSend, payload, true};
  } else if (line == "<closed") {
    step = {StepKind::kExpectClosed, ""};
  } else if (line == "<quiet") {
    step = {StepKind::kExpectQuiet, ""};
  } else if (TakePayload(line, "<<", &payload)) {
    step = {StepKind::kExpectBytes, payload, false};
  } else if (TakePayload(line, "<~", &payload)) {
    step = {StepKind::kExpectLineRegex, payload};
  } else if (TakePayload(line, "<*", &payload)) {
    step = {StepKind::kExpectLinesRegex, payload};
  } else if (TakePayload(line, "<", &payload)) {
    step = {StepKind::kExpectBytes, payload, true};
  } else if (TakePayload(line, "@conn", &payload) && !payload.empty()) {
    step = {StepKind::kUseConnection, payload};
  } else if (line == "@close") {
    step = {StepKind::kCloseConnection, ""};
  } else if (TakePayload(line, "+", &payload)) {
    auto words = SplitWords(payload);
    if (words.size() != 2 || !ParseInt(words[1], &step.delta)) {
      return Status::InvalidArgument("expected '+ STAT_NAME DELTA'");
    }
    step.kind = StepKind::kStatsDelta;
    step.text = words[0];
  } else {
    return Status::InvalidArgument("unknown line kind: " + std::string(line));
  }
  return step;
}

// Checks that the payload expands, unescapes and (for regexes) compiles.
Status ValidateStep(const Step& step) {
  if (step.kind == StepKind::kSend || step.kind == StepKind::kExpectBytes) {
    auto bytes = StepBytes(step, Context{});
    return bytes.ok() ? Status::Ok() : bytes.status();
  }
  if (step.kind == StepKind::kExpectLineRegex || step.kind == StepKind::kExpectLinesRegex) {
    auto expanded = ExpandVariables(step.text, Context{});
    if (!expanded.ok()) return expanded.status();
    try {
      std::regex re(*expanded);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument(std::string("bad regex: ") + e.what());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ExpandVariables(std::string_view raw, const Context& context) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = raw.find("${", pos);
    if (start == std::string_view::npos) break;
    // Find the matching brace; an inner ${...} is expanded first, so forms can nest.
    size_t end = start + 2;
    for (int depth = 1; end < raw.size(); ++end) {
      if (raw.compare(end, 2, "${") == 0) ++depth;
      if (raw[end] == '}' && --depth == 0) break;
    }
    if (end >= raw.size()) return Status::InvalidArgument("unclosed ${");
    out.append(raw.substr(pos, start - pos));
    auto body = ExpandVariables(raw.substr(start + 2, end - start - 2), context);
    if (!body.ok()) return body.status();
    auto value = ExpandOne(*body, context);
    if (!value.ok()) return value.status();
    out += *value;
    pos = end + 1;
  }
  out.append(raw.substr(pos));
  return out;
}

Result<std::string> StepBytes(const Step& step, const Context& context) {
  auto expanded = ExpandVariables(step.text, context);
  if (!expanded.ok()) return expanded.status();
  auto bytes = testutil::UnescapeBytes(*expanded);
  if (!bytes.ok()) return bytes.status();
  if (step.append_crlf) *bytes += "\r\n";
  return bytes;
}

Result<Transcript> ParseTranscript(std::string_view name, std::string_view text) {
  Transcript t;
  t.name = std::string(name);
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto fail = [&](const Status& s) {
      return Status::InvalidArgument(t.name + ".txt line " + std::to_string(line_no) + ": " +
                                     s.message());
    };
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (line[0] == '#') {
      size_t body = line.find_first_not_of("# ");
      if (body == std::string_view::npos) continue;
      Status s = ParseDirective(line.substr(body), &t);
      if (!s.ok()) return fail(s);
      continue;
    }
    auto step = ParseStep(line);
    if (!step.ok()) return fail(step.status());
    step->line = line_no;
    Status s = ValidateStep(*step);
    if (!s.ok()) return fail(s);
    if (step->kind == StepKind::kStatsDelta) t.uses_stats_delta = true;
    t.steps.push_back(std::move(step).value());
  }
  if (t.steps.empty()) return Status::InvalidArgument(t.name + ".txt has no steps");
  return t;
}

Result<Transcript> LoadTranscript(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) return Status::NotFound(path);
  return ParseTranscript(std::filesystem::path(path).stem().string(),
                         testutil::ReadFileOrEmpty(path));
}

}  // namespace warmcache::conformance
