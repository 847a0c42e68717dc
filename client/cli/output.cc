#include "client/cli/output.h"

#include <iostream>

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
  if (column == "id") return r.id;
  int i = table.FieldIndex(column);
  if (i < 0 || !r.values[static_cast<size_t>(i)]) return "";
  return OneLine(DisplayValue(&table.fields[static_cast<size_t>(i)], r.values[static_cast<size_t>(i)]));
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
  for (const schema::Record& r : records) {
    std::vector<std::string> row;
    for (std::string_view c : columns) row.push_back(Cell(table, r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Every field with a value, and those under review even when empty (marked "(!)").
void PrintFields(const schema::Table& table, const schema::Record& record, const std::vector<ReviewMark>& review = {}) {
  std::vector<std::pair<std::string, std::string>> lines = {{"Identifiant", record.id}};
  for (size_t i = 0; i < table.fields.size(); ++i) {
    bool reviewed = false;
    for (const ReviewMark& m : review) reviewed = reviewed || m.field == table.fields[i].name;
    if (!record.values[i] && !reviewed) continue;
    std::string value = record.values[i] ? DisplayValue(&table.fields[i], record.values[i]) : "";
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
  for (std::string_view c : columns) headings.push_back(Heading(table, c));
  std::cout << FormatTable(headings, Rows(table, records, columns));
  std::cout << records.size() << " résultat(s)\n";
}

void PrintNote(const Context& ctx, const std::string& text) {
  if (!ctx.json) std::cout << text << "\n";
}

}  // namespace relais::cli
