#include "stats/render.h"

#include <nlohmann/json.hpp>

#include "base/text.h"

namespace relais::stats {

namespace {

std::string Pad(const std::string& s, size_t width, bool right) {
  const size_t n = Utf8Length(s);
  if (n >= width) return s;
  return right ? std::string(width - n, ' ') + s : s + std::string(width - n, ' ');
}

}  // namespace

std::string Shown(const StatsTable& t, int i, int j, bool french) {
  switch (t.grid.mark(i, j)) {
    case Mark::kPrimary:
      return "< " + std::to_string(t.query.min_count);
    case Mark::kSecondary:
      return "s";
    case Mark::kShown:
      break;
  }
  return french ? FrenchCount(t.grid.at(i, j)) : std::to_string(t.grid.at(i, j));
}

namespace {

bool AnyHidden(const StatsTable& t) {
  for (Mark m : t.grid.marks) {
    if (m != Mark::kShown) return true;
  }
  return false;
}

std::string Title(const StatsTable& t) {
  std::string by;
  for (size_t i = 0; i < t.by.size(); ++i) {
    std::string label(t.by[i]->label);
    label[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(label[0])));
    by += (i ? " et " : "") + label;
  }
  std::string title = std::string(t.measure->label) + " du " + t.query.from + " au " + t.query.to + ", par " + by;
  if (t.breakdown) {
    std::string label(t.breakdown->label);
    label[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(label[0])));
    title += ", selon : " + label;
  }
  return title;
}

}  // namespace

std::string Scope(const StatsTable& t) {
  std::string scope = t.query.scope.empty() ? std::string("la base interrogée") : t.query.scope;
  if (t.query.territory) scope += ", territoire " + *t.query.territory;
  return scope;
}

std::vector<std::string> Legend(const StatsTable& t) {
  std::vector<std::string> lines;
  if (t.query.internal) {
    lines.push_back(std::string("Tableau ") + kInternalMark + " : les petits effectifs ne sont pas masqués.");
  } else if (AnyHidden(t)) {
    const std::string n = std::to_string(t.query.min_count);
    lines.push_back("« < " + n + " » : moins de " + n + " (de 0 à " + std::to_string(t.query.min_count - 1) +
                    "), masqué (secret statistique) ; « s » : " + n +
                    " ou plus, masqué pour que les petits effectifs ne puissent pas être recalculés à partir des "
                    "totaux.");
  }
  return lines;
}

std::string FrenchCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "\u202f";
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string RenderText(const StatsTable& t) {
  const int rows = t.grid.rows, cols = t.grid.cols;
  const bool with_row_totals = t.breakdown != nullptr;
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> heading;
  for (const Dimension* d : t.by) heading.emplace_back(d->label);
  for (const std::string& c : t.column_labels) heading.push_back(c);
  if (with_row_totals) heading.emplace_back("Total");
  lines.push_back(heading);
  for (int i = 0; i <= rows; ++i) {
    std::vector<std::string> line;
    for (size_t k = 0; k < t.by.size(); ++k) line.push_back(i < rows ? t.row_labels[size_t(i)][k] : (k == 0 ? "Total" : ""));
    for (int j = 0; j < cols; ++j) line.push_back(Shown(t, i, j, true));
    if (with_row_totals) line.push_back(Shown(t, i, cols, true));
    lines.push_back(line);
  }
  std::vector<size_t> width(heading.size(), 0);
  for (const auto& line : lines) {
    for (size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], Utf8Length(line[k]));
  }
  std::string out;
  if (t.query.internal) out += std::string("*** ") + kInternalMark + " ***\n";
  out += Title(t) + "\nPérimètre : " + Scope(t) + "\n\n";
  for (size_t l = 0; l < lines.size(); ++l) {
    std::string text;
    for (size_t k = 0; k < lines[l].size(); ++k) {
      const bool number = k >= t.by.size();
      text += (k ? "  " : "") + Pad(lines[l][k], width[k], number);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
    if (l == 0 || l + 2 == lines.size()) {
      std::string rule;
      for (size_t k = 0; k < width.size(); ++k) rule += (k ? "  " : "") + std::string(width[k], '-');
      out += rule + "\n";
    }
  }
  std::vector<std::string> after = Legend(t);
  after.insert(after.end(), t.notes.begin(), t.notes.end());
  if (!after.empty()) out += "\n";
  for (const std::string& line : after) out += line + "\n";
  return out;
}

std::string RenderCsv(const StatsTable& t) {
  auto field = [](const std::string& s) {
    if (s.find_first_of(";\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out = "\xEF\xBB\xBF";
  auto line = [&out, &field](const std::vector<std::string>& fields) {
    for (size_t k = 0; k < fields.size(); ++k) out += (k ? ";" : "") + field(fields[k]);
    out += "\r\n";
  };
  if (t.query.internal) line({kInternalMark});
  line({Title(t)});
  line({"Périmètre : " + Scope(t)});
  std::vector<std::string> heading;
  for (const Dimension* d : t.by) heading.emplace_back(d->label);
  for (const std::string& c : t.column_labels) heading.push_back(c);
  if (t.breakdown) heading.emplace_back("Total");
  line(heading);
  for (int i = 0; i <= t.grid.rows; ++i) {
    std::vector<std::string> fields;
    for (size_t k = 0; k < t.by.size(); ++k)
      fields.push_back(i < t.grid.rows ? t.row_labels[size_t(i)][k] : (k == 0 ? "Total" : ""));
    for (int j = 0; j < t.grid.cols; ++j) fields.push_back(Shown(t, i, j, false));
    if (t.breakdown) fields.push_back(Shown(t, i, t.grid.cols, false));
    line(fields);
  }
  std::vector<std::string> after = Legend(t);
  after.insert(after.end(), t.notes.begin(), t.notes.end());
  for (const std::string& note : after) line({note});
  return out;
}

std::string RenderJson(const StatsTable& t) {
  using nlohmann::json;
  auto entry = [&t](int i, int j) -> json {
    if (t.grid.mark(i, j) == Mark::kShown) return t.grid.at(i, j);
    return Shown(t, i, j, false);
  };
  json doc;
  doc["measure"] = t.query.measure;
  doc["from"] = t.query.from;
  doc["to"] = t.query.to;
  doc["by"] = t.query.by;
  doc["breakdown"] = t.breakdown ? json(t.query.breakdown) : json(nullptr);
  doc["territory"] = t.query.territory ? json(*t.query.territory) : json(nullptr);
  doc["scope"] = Scope(t);
  doc["min_count"] = t.query.min_count;
  doc["internal"] = t.query.internal;
  if (t.query.internal) doc["marking"] = kInternalMark;
  json columns = json::array();
  for (size_t j = 0; j < t.column_keys.size(); ++j)
    columns.push_back({{"key", t.column_keys[j]}, {"label", t.column_labels[j]}});
  doc["columns"] = columns;
  json rows = json::array();
  for (int i = 0; i < t.grid.rows; ++i) {
    json cells = json::array();
    for (int j = 0; j < t.grid.cols; ++j) cells.push_back(entry(i, j));
    rows.push_back({{"keys", t.row_keys[size_t(i)]},
                    {"labels", t.row_labels[size_t(i)]},
                    {"cells", cells},
                    {"total", entry(i, t.grid.cols)}});
  }
  doc["rows"] = rows;
  json totals = json::array();
  for (int j = 0; j < t.grid.cols; ++j) totals.push_back(entry(t.grid.rows, j));
  doc["column_totals"] = totals;
  doc["total"] = entry(t.grid.rows, t.grid.cols);
  doc["notes"] = t.notes;
  return doc.dump(2) + "\n";
}

}  // namespace relais::stats
