// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/value_generator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "tools/bench/key_chooser.h"

namespace warmcache::tools::bench {

namespace {

using Words = std::array<std::string_view, 16>;

constexpr Words kFirstNames = {"maria", "john", "wei",   "fatima", "olga",  "pedro",
                               "aiko",  "liam", "noor",  "ivan",   "chloe", "tariq",
                               "elena", "kofi", "sofia", "mateo"};
constexpr Words kLastNames = {"lopez", "smith",  "chen",   "haddad", "petrova", "silva",
                              "sato",  "murphy", "rahman", "novak",  "martin",  "aziz",
                              "rossi", "mensah", "garcia", "weber"};
constexpr Words kCities = {"lisbon", "berlin", "osaka",  "lagos",  "lima",  "oslo",
                           "dublin", "cairo",  "austin", "prague", "seoul", "quito",
                           "milan",  "accra",  "perth",  "tunis"};
constexpr Words kAdjectives = {"blue",  "large", "steel",   "compact", "red",   "organic",
                               "smart", "quiet", "vintage", "light",   "green", "wooden",
                               "black", "solar", "folding", "classic"};
constexpr Words kNouns = {"widget", "lamp",   "kettle", "backpack", "chair", "speaker",
                          "bottle", "jacket", "drill",  "monitor",  "tent",  "blender",
                          "wallet", "router", "helmet", "notebook"};
constexpr Words kNoteWords = {"please", "leave", "the",    "parcel",  "at",   "front",
                              "door",   "call",  "before", "arrival", "gift", "wrap",
                              "thanks", "ring",  "bell",   "twice"};
constexpr std::array<std::string_view, 4> kTiers = {"bronze", "silver", "gold", "platinum"};
constexpr std::array<std::string_view, 4> kStatuses = {"pending", "paid", "shipped", "delivered"};

// Between the order lines and the events, and between the events and the note.
constexpr std::string_view kEventsOpen = "],\"events\":[";
constexpr std::string_view kNoteOpen = "],\"note\":\"";
constexpr std::string_view kNoteClose = "\"}";

// Appends text to a string with a few JSON-shaped helpers. Hand-rolled rather than fmt: it runs
// for every value the bench writes or checks.
class JsonText {
 public:
  JsonText(std::string* out, uint64_t seed) : out_(out), rng_(seed) {}

  void Raw(std::string_view text) { out_->append(text); }
  void Number(uint64_t value) {
    char digits[20];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (n > 0) out_->push_back(digits[--n]);
  }
  // Zero-padded to `width` digits.
  void Padded(uint64_t value, size_t width) {
    const size_t at = out_->size();
    Number(value);
    const size_t len = out_->size() - at;
    if (len < width) out_->insert(at, width - len, '0');
  }
  void Field(std::string_view name) {
    out_->push_back('"');
    out_->append(name);
    out_->append("\":");
  }
  void StringField(std::string_view name, std::string_view value) {
    Field(name);
    out_->push_back('"');
    out_->append(value);
    out_->push_back('"');
  }
  template <size_t N>
  std::string_view Pick(const std::array<std::string_view, N>& words) {
    return words[rng_.Below(N)];
  }
  uint64_t Below(uint64_t n) { return rng_.Below(n); }

 private:
  std::string* out_;
  Rng rng_;
};

// "2025-MM-DDTHH:MM:SSZ" on the order's day; every timestamp of a record shares the date.
void AppendTimestamp(std::string_view date, JsonText* j) {
  j->Raw(date);
  j->Raw("T");
  j->Padded(j->Below(24), 2);
  j->Raw(":");
  j->Padded(j->Below(60), 2);
  j->Raw(":");
  j->Padded(j->Below(60), 2);
  j->Raw("Z");
}

void AppendHead(uint64_t key_id, std::string_view key, std::string_view date, JsonText* j) {
  j->Raw("{");
  j->Field("id");
  j->Number(key_id);
  j->Raw(",");
  j->StringField("key", key);
  j->Raw(",\"type\":\"order\",\"created\":\"");
  AppendTimestamp(date, j);
  j->Raw("\",");
  j->StringField("status", j->Pick(kStatuses));
  j->Raw(",\"customer\":{");
  j->Field("id");
  j->Number(j->Below(1000000));
  j->Raw(",\"name\":\"");
  j->Raw(j->Pick(kFirstNames));
  j->Raw(" ");
  j->Raw(j->Pick(kLastNames));
  j->Raw("\",");
  j->StringField("city", j->Pick(kCities));
  j->Raw(",");
  j->StringField("tier", j->Pick(kTiers));
  j->Raw("},\"lines\":[");
}

// One of 256 catalogue products: its SKU and price follow from its name, as in a real shop.
void AppendLine(JsonText* j) {
  const uint64_t adjective = j->Below(kAdjectives.size());
  const uint64_t noun = j->Below(kNouns.size());
  const uint64_t product = adjective * kNouns.size() + noun;
  const uint64_t sku = 10007 + product * 37;
  j->Raw("{\"sku\":\"SKU-");
  j->Padded(sku, 6);
  j->Raw("\",\"item\":\"");
  j->Raw(kAdjectives[adjective]);
  j->Raw(" ");
  j->Raw(kNouns[noun]);
  j->Raw("\",");
  j->Field("qty");
  j->Number(1 + j->Below(9));
  j->Raw(",");
  j->Field("price");
  j->Number(5 + product * 7919 % 400);
  j->Raw(".");
  j->Padded(product * 31 % 100, 2);
  j->Raw(",\"currency\":\"EUR\",\"tax_rate\":0.21,\"discount\":null,\"gift\":");
  j->Raw(j->Below(8) == 0 ? "true" : "false");
  j->Raw(",\"in_stock\":");
  j->Raw(j->Below(4) == 0 ? "false" : "true");
  j->Raw("}");
}

// "2025-MM-DD" for the record's order day.
std::string_view PickDate(JsonText* j, char (&date)[10]) {
  const uint64_t month = 1 + j->Below(12);
  const uint64_t day = 1 + j->Below(28);
  const char text[] = {'2',
                       '0',
                       '2',
                       '5',
                       '-',
                       static_cast<char>('0' + month / 10),
                       static_cast<char>('0' + month % 10),
                       '-',
                       static_cast<char>('0' + day / 10),
                       static_cast<char>('0' + day % 10)};
  std::memcpy(date, text, sizeof(date));
  return std::string_view(date, sizeof(date));
}

// {"at":"<timestamp>","event":"<status>"}
void AppendEvent(std::string_view date, JsonText* j) {
  j->Raw("{\"at\":\"");
  AppendTimestamp(date, j);
  j->Raw("\",");
  j->StringField("event", j->Pick(kStatuses));
  j->Raw("}");
}

// Appends comma-separated elements, each written by `make` into `element`, to `out` while
// `reserve` bytes still fit after them within `size`. The first that does not fit is dropped.
template <typename Make>
void AppendWhileFits(size_t size, size_t reserve, std::string* out, std::string* element,
                     Make make) {
  for (bool first = true;; first = false) {
    element->clear();
    if (!first) element->push_back(',');
    make();
    if (out->size() + element->size() + reserve > size) return;
    out->append(*element);
  }
}

// Builds the record in `scratch` and copies exactly `size` bytes of it to `out`: order lines
// while they fit, then short status events while they fit, then a free-text note that fills
// the rest exactly. Below the smallest record (about 300 bytes) the value is a prefix of it:
// JSON-like, not valid JSON.
void FillJson(uint64_t key_id, std::string_view key, size_t size, std::string* scratch, char* out) {
  scratch->clear();
  JsonText j(scratch, key_id * 0x9e3779b97f4a7c15ULL + 0x5eed);
  char date_text[10];
  const std::string_view date = PickDate(&j, date_text);
  AppendHead(key_id, key, date, &j);
  std::string element;
  JsonText e(&element, key_id ^ 0xa11ce);
  const size_t note_reserve = kNoteOpen.size() + kNoteClose.size();
  AppendWhileFits(size, kEventsOpen.size() + note_reserve, scratch, &element,
                  [&] { AppendLine(&e); });
  j.Raw(kEventsOpen);
  AppendWhileFits(size, note_reserve, scratch, &element, [&] { AppendEvent(date, &e); });
  j.Raw(kNoteOpen);
  const size_t note_end = std::max(scratch->size(), size - std::min(size, kNoteClose.size()));
  while (scratch->size() < note_end) {
    if (scratch->back() != '"') j.Raw(" ");
    j.Raw(j.Pick(kNoteWords));
  }
  scratch->resize(note_end);  // cuts the last word
  j.Raw(kNoteClose);
  std::memcpy(out, scratch->data(), size);
}

thread_local std::string tls_scratch;

}  // namespace

void ValueGenerator::Fill(uint64_t key_id, std::string_view key, char* out) const {
  if (kind_ == ValueKind::kJson) {
    FillJson(key_id, key, size_, &tls_scratch, out);
    return;
  }
  const size_t head = std::min<size_t>(key.size(), size_);
  std::memcpy(out, key.data(), head);
  std::memset(out + head, 'a' + static_cast<int>(key_id % 26), size_ - head);
}

bool ValueGenerator::Matches(uint64_t key_id, std::string_view key, std::string_view data) const {
  if (data.size() != size_) return false;
  if (kind_ == ValueKind::kJson) {
    thread_local std::string expected;
    expected.resize(size_);
    Fill(key_id, key, expected.data());
    return data == expected;
  }
  const size_t head = std::min<size_t>(key.size(), size_);
  if (data.substr(0, head) != key.substr(0, head)) return false;
  const char fill = static_cast<char>('a' + key_id % 26);
  return std::all_of(data.begin() + static_cast<std::ptrdiff_t>(head), data.end(),
                     [fill](char c) { return c == fill; });
}

const char* ValueKindName(ValueKind kind) { return kind == ValueKind::kJson ? "json" : "fill"; }

}  // namespace warmcache::tools::bench
