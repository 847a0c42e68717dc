#include "client/cli/output.h"

#include <cstdint>
#include <iostream>
#include <ostream>

#include <nlohmann/json.hpp>

#include "base/text.h"
#include "client/record_json.h"

namespace relais::cli {

namespace {

// One line per cell: a table row never breaks (notes and follow-up texts may hold new lines).
std::string OneLine(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n')
      out += " / ";
    else if (c != '\r')
      out.push_back(c == '\t' ? ' ' : c);
  }
  return out;
}

std::string Cell(const schema::Table& table, const schema::Record& r, std::string_view column) {
  if (column == "id") return TerminalSafe(r.id);
  int i = table.FieldIndex(column);
  if (i < 0 || !r.values[static_cast<size_t>(i)]) return "";
  return TerminalSafe(OneLine(DisplayValue(&table.fields[static_cast<size_t>(i)], r.values[static_cast<size_t>(i)])));
}

std::string Heading(const schema::Table& table, std::string_view column) {
  if (column == "id") return "Identifiant";
  const schema::Field* f = table.FindField(column);
  return f ? std::string(f->label) : std::string(column);
}

std::string Pad(const std::string& text, size_t width) {
  size_t len = Utf8Length(text);
  return text + std::string(width > len ? width - len : 0, ' ');
}

std::vector<std::vector<std::string>> Rows(const schema::Table& table, const std::vector<schema::Record>& records,
                                           const std::vector<std::string_view>& columns) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(records.size());
  for (const schema::Record& r : records) {
    std::vector<std::string> row;
    row.reserve(columns.size());
    for (std::string_view c : columns) row.push_back(Cell(table, r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Every field with a value, and those under review even when empty (marked "(!)").
void PrintFields(const schema::Table& table, const schema::Record& record, const std::vector<ReviewMark>& review = {}) {
  std::vector<std::pair<std::string, std::string>> lines = {{"Identifiant", TerminalSafe(record.id)}};
  for (size_t i = 0; i < table.fields.size(); ++i) {
    bool reviewed = false;
    for (const ReviewMark& m : review) reviewed = reviewed || m.field == table.fields[i].name;
    if (!record.values[i] && !reviewed) continue;
    std::string value = record.values[i] ? TerminalSafe(DisplayValue(&table.fields[i], record.values[i])) : "";
    if (reviewed) value += (value.empty() ? "" : "  ") + std::string("(!) en attente d'arbitrage");
    lines.emplace_back(std::string(table.fields[i].label), value);
  }
  size_t width = 0;
  for (const auto& [label, value] : lines) width = std::max(width, Utf8Length(label));
  for (const auto& [label, value] : lines) {
    // Multi-line values (notes) keep their lines, indented under the value column.
    std::string indented;
    for (char c : value) {
      indented.push_back(c);
      if (c == '\n') indented += std::string(width + 2, ' ');
    }
    std::cout << Pad(label, width) << "  " << indented << "\n";
  }
}

}  // namespace

std::string FormatTable(const std::vector<std::string>& headings, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  widths.reserve(headings.size());
  for (const std::string& h : headings) widths.push_back(Utf8Length(h));
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], Utf8Length(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += c + 1 == cells.size() ? cells[c] : Pad(cells[c], widths[c]) + "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headings);
  std::vector<std::string> rules;
  rules.reserve(widths.size());
  for (size_t w : widths) rules.push_back(std::string(w, '-'));
  out += line(rules);
  for (const auto& row : rows) out += line(row);
  return out;
}

void PrintRecord(const Context& ctx, const schema::Table& table, const schema::Record& record) {
  if (ctx.json) {
    std::cout << client::RecordToJson(table, record, true, true).dump(2) << "\n";
    return;
  }
  PrintFields(table, record);
}

// The children of `show` (a case's follow-up entries), as a table under their heading.
void PrintChildren(const RecordDetails& details);

void PrintRecordDetails(const Context& ctx, const schema::Table& table, const schema::Record& record,
                        const RecordDetails& details) {
  if (ctx.json) {
    nlohmann::ordered_json out = client::RecordToJson(table, record, true, true);
    if (!details.redirected_from.empty()) out["redirected_from"] = details.redirected_from;
    out["pending_changes"] = details.pending.pending;
    out["rejected_changes"] = details.pending.rejected;
    if (details.with_conflicts) {
      nlohmann::ordered_json review = nlohmann::ordered_json::array();
      for (const ReviewMark& m : details.under_review) {
        review.push_back({{"field", m.field},
                          {"server_value", m.server_value ? nlohmann::ordered_json(*m.server_value) : nullptr},
                          {"device_value", m.device_value ? nlohmann::ordered_json(*m.device_value) : nullptr},
                          {"device", m.device},
                          {"server_device", m.server_device},
                          {"conflict", m.conflict}});
      }
      out["under_review"] = std::move(review);
      nlohmann::ordered_json duplicates = nlohmann::ordered_json::array();
      for (const DuplicateMark& d : details.possible_duplicates) {
        duplicates.push_back({{"id", d.id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.id)},
                              {"name", d.id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.name)},
                              {"conflict", d.conflict}});
      }
      out["possible_duplicate_of"] = std::move(duplicates);
    }
    if (details.child_table) {
      nlohmann::ordered_json children = nlohmann::ordered_json::array();
      for (size_t i = 0; i < details.children.size(); ++i) {
        nlohmann::ordered_json child = client::RecordToJson(*details.child_table, details.children[i], true, true);
        child["pending"] = i < details.child_pending.size() && details.child_pending[i];
        children.push_back(std::move(child));
      }
      out[details.child_key] = std::move(children);
    }
    for (const auto& [key, text] : details.more_json) out[key] = nlohmann::ordered_json::parse(text);
    std::cout << out.dump(2) << "\n";
    return;
  }
  if (!details.redirect_note.empty()) std::cout << details.redirect_note << "\n\n";
  PrintFields(table, record, details.under_review);
  for (const ReviewMark& m : details.under_review) {
    const schema::Field* f = table.FindField(m.field);
    std::string label = f ? std::string(f->label) : m.field;
    std::cout << "\n(!) " << label << " : en attente d'arbitrage par le centre (conflit n° " << m.conflict << ")\n"
              << "    valeur du centre   « " << DisplayValue(f, m.server_value) << " »"
              << (m.server_device.empty() ? "" : " (" + m.server_device + ")") << "\n"
              << "    valeur en attente  « " << DisplayValue(f, m.device_value) << " »"
              << (m.device.empty() ? "" : " (" + m.device + ")") << "\n";
  }
  for (const DuplicateMark& d : details.possible_duplicates) {
    if (d.id.empty()) {
      std::cout << "\n(!) doublon possible : le centre vérifie si cette personne est déjà suivie (conflit n° "
                << d.conflict << ")\n";
      continue;
    }
    std::cout << "\n(!) doublon possible de " << (d.name.empty() ? d.id : d.name + " (" + d.id + ")")
              << " : en attente d'arbitrage par le centre (conflit n° " << d.conflict << ")\n";
  }
  if (details.pending.pending > 0) {
    std::cout << "\n* " << details.pending.pending << " modification(s) pas encore synchronisée(s)\n";
  }
  if (details.pending.rejected > 0) {
    std::cout << "! " << details.pending.rejected
              << " modification(s) refusée(s) par le serveur (voir relais status)\n";
  }
  PrintChildren(details);
  for (const auto& [heading, text] : details.more_text) std::cout << "\n" << heading << "\n" << text;
}

void PrintChildren(const RecordDetails& details) {
  if (!details.child_table) return;
  std::cout << "\nSuivi (" << details.children.size() << ")\n";
  if (details.children.empty()) return;
  std::vector<std::string> headings = {""};
  for (std::string_view c : details.child_columns) headings.push_back(Heading(*details.child_table, c));
  auto rows = Rows(*details.child_table, details.children, details.child_columns);
  for (size_t i = 0; i < rows.size(); ++i) {
    bool pending = i < details.child_pending.size() && details.child_pending[i];
    rows[i].insert(rows[i].begin(), pending ? "*" : "");
  }
  std::cout << FormatTable(headings, rows);
  bool any_pending = false;
  for (bool p : details.child_pending) any_pending |= p;
  if (any_pending) std::cout << "(* : pas encore synchronisé)\n";
}

void PrintRecords(const Context& ctx, const schema::Table& table, const std::vector<schema::Record>& records,
                  const std::vector<std::string_view>& columns) {
  if (ctx.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const schema::Record& r : records) out.push_back(client::RecordToJson(table, r, true, true));
    std::cout << out.dump(2) << "\n";
    return;
  }
  if (records.empty()) {
    std::cout << "Aucun résultat.\n";
    return;
  }
  std::vector<std::string> headings;
  headings.reserve(columns.size());
  for (std::string_view c : columns) headings.push_back(Heading(table, c));
  std::cout << FormatTable(headings, Rows(table, records, columns));
  std::cout << records.size() << " résultat(s)\n";
}

void PrintNote(const Context& ctx, const std::string& text) {
  if (!ctx.json) std::cout << text << "\n";
}

namespace {

// The code point of the UTF-8 sequence of `n` bytes at `p` (checked well-formed by the caller).
char32_t CodePoint(const unsigned char* p, size_t n) {
  if (n == 2) return static_cast<char32_t>(((p[0] & 0x1f) << 6) | (p[1] & 0x3f));
  if (n == 3) return static_cast<char32_t>(((p[0] & 0x0f) << 12) | ((p[1] & 0x3f) << 6) | (p[2] & 0x3f));
  return static_cast<char32_t>(((p[0] & 0x07) << 18) | ((p[1] & 0x3f) << 12) | ((p[2] & 0x3f) << 6) | (p[3] & 0x3f));
}

bool ActsOnTerminal(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069);
}

void AppendMark(std::string& out, const char* prefix, uint32_t value, int digits) {
  out += prefix;
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kUpperHex[(value >> shift) & 0xf];
  out += '>';
}

}  // namespace

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      const bool kept =
          byte >= 0x20 ? byte != 0x7f
                       : byte == '\n' || byte == '\t' || (byte == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
      if (kept)
        out += static_cast<char>(byte);
      else
        AppendMark(out, "<U+", byte, 4);
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceAt(text, i);
    if (n == 0) {
      AppendMark(out, "<0x", byte, 2);
      ++i;
      continue;
    }
    const char32_t c = CodePoint(reinterpret_cast<const unsigned char*>(text.data() + i), n);
    if (ActsOnTerminal(c))
      AppendMark(out, "<U+", static_cast<uint32_t>(c), 4);
    else
      out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

// Holds what is written until a new line (or a flush), then writes it through TerminalSafe() to the
// stream's own buffer. A UTF-8 sequence cut by a flush waits for its end.
class TerminalGuard::Filter : public std::streambuf {
 public:
  Filter(std::streambuf* out, const Context& ctx) : out_(out), ctx_(ctx) {}
  ~Filter() override { Emit(true); }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    if (Exact()) return Emit(true) ? out_->sputc(traits_type::to_char_type(c)) : traits_type::eof();
    pending_ += traits_type::to_char_type(c);
    if (c == '\n' && !Emit(false)) return traits_type::eof();
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (Exact()) return Emit(true) ? out_->sputn(s, n) : 0;
    pending_.append(s, static_cast<size_t>(n));
    if (std::string_view(s, static_cast<size_t>(n)).find('\n') != std::string_view::npos && !Emit(false)) return 0;
    return n;
  }
  int sync() override { return Emit(false) && out_->pubsync() == 0 ? 0 : -1; }

 private:
  // Writes what is held, but for a cut UTF-8 sequence at its end unless `all`.
  bool Emit(bool all) {
    size_t end = pending_.size();
    if (!all) {
      // Back over at most three continuation bytes to the start of the last sequence.
      size_t start = end;
      while (start > 0 && end - start < 4 && (static_cast<unsigned char>(pending_[start - 1]) & 0xc0) == 0x80) --start;
      if (start > 0 && static_cast<unsigned char>(pending_[start - 1]) >= 0xc0) {
        const auto lead = static_cast<unsigned char>(pending_[start - 1]);
        const size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (end - (start - 1) < length) end = start - 1;
      }
    }
    if (end == 0) return true;
    const std::string text =
        Exact() ? pending_.substr(0, end) : TerminalSafe(std::string_view(pending_).substr(0, end));
    pending_.erase(0, end);
    return out_->sputn(text.data(), static_cast<std::streamsize>(text.size())) ==
           static_cast<std::streamsize>(text.size());
  }

  bool Exact() const { return ctx_.json || ctx_.exact_stdout; }

  std::streambuf* out_;
  const Context& ctx_;
  std::string pending_;
};

TerminalGuard::TerminalGuard(const Context& ctx)
    : filter_(std::make_unique<Filter>(std::cout.rdbuf(), ctx)), original_(std::cout.rdbuf()) {
  std::cout.rdbuf(filter_.get());
}

TerminalGuard::~TerminalGuard() {
  std::cout.flush();
  std::cout.rdbuf(original_);
  filter_.reset();
  std::cout.flush();
}

}  // namespace relais::cli
