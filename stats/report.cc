#include "stats/report.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <tuple>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "stats/activity.h"
#include "stats/render.h"

namespace relais::stats {

namespace {

// How a section shows its table besides the table itself.
enum class Chart { kNone, kBars, kStacked };

struct Section {
  std::string heading;  // French, the section's title
  std::string measure;
  std::string by;
  std::string breakdown;  // empty: none
  Chart chart = Chart::kNone;
  bool transpose = false;  // the breakdown's values as rows (a long list: communes)
};

// The report's sections, in the order of the funders' review: the public received (volume,
// typology, demand, where from), then the work done with it.
const std::vector<Section>& Sections() {
  static const std::vector<Section> kSections = {
      {"Visites par mois", "visits", "month", "", Chart::kBars},
      {"Personnes reçues par mois", "people", "month", "", Chart::kBars},
      {"Visites par point d'accueil et canal", "visits", "reception_point", "channel", Chart::kStacked},
      {"Typologie du public : statut des personnes reçues, par mois", "visits", "month", "status", Chart::kStacked},
      {"Typologie du public : âge, par point d'accueil", "visits", "reception_point", "age_band", Chart::kNone},
      {"La demande : motifs des visites, par point d'accueil", "visits", "reception_point", "reason", Chart::kNone},
      {"D'où viennent les personnes : commune de résidence", "visits", "territory", "commune", Chart::kNone, true},
      {"Dossiers ouverts par mois", "cases_opened", "month", "", Chart::kBars},
      {"Dossiers clos par mois", "cases_closed", "month", "", Chart::kBars},
      {"Suivis par type, par mois", "followups", "month", "followup_kind", Chart::kStacked},
      {"Orientations vers les partenaires : service demandé", "referrals", "territory", "referral_service",
       Chart::kNone},
      {"Orientations par partenaire et issue", "referrals", "partner", "referral_outcome", Chart::kNone},
      {"Rendez-vous par mois et issue", "appointments", "month", "outcome", Chart::kStacked},
  };
  return kSections;
}

// The key figures at the top: each measure's total over the year.
const std::array<std::pair<const char*, const char*>, 6> kKeyFigures = {{{"visits", "visites"},
                                                                        {"people", "personnes reçues"},
                                                                        {"cases_opened", "dossiers ouverts"},
                                                                        {"followups", "entrées de suivi"},
                                                                        {"referrals", "orientations"},
                                                                        {"appointments", "rendez-vous"}}};

// The colours of a chart's series, distinct in print and for the colour-blind (Okabe–Ito), then
// the grey of what is hidden.
const std::array<const char*, 8> kColours = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                             "#56B4E9", "#D55E00", "#F0E442", "#000000"};
constexpr const char* kHiddenColour = "#BBBBBB";

std::string Escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

// A bar's label under the axis: a month short ("janv."), so that twelve fit; others cut to fit.
std::string AxisLabel(const StatsTable& t, int i, const std::string& label) {
  static const char* const kMonths[] = {"janv.", "févr.", "mars", "avr.", "mai",  "juin",
                                        "juil.", "août",  "sept.", "oct.", "nov.", "déc."};
  const std::string& key = t.row_keys[size_t(i)].front();
  if (t.by.front()->name == "month" && key.size() == 7) {
    const long month = std::strtol(key.c_str() + 5, nullptr, 10);
    if (month >= 1 && month <= 12) return kMonths[month - 1];
  }
  if (label.size() <= 14) return label;
  size_t cut = 12;
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return label.substr(0, cut) + "…";
}

std::string RowLabel(const StatsTable& t, int i) {
  std::string label;
  for (const std::string& part : t.row_labels[size_t(i)]) label += (label.empty() ? "" : " — ") + part;
  return label.empty() ? "(non renseigné)" : label;
}

// One bar: the published parts (column, count), and what is hidden in it when the row's total is
// published (that total less the published parts, which anyone can compute from the table).
struct Bar {
  std::string label, axis;
  std::vector<std::pair<int, int64_t>> parts;
  int64_t hidden = 0;
  bool drawn = true;   // false: the row's total is hidden, the bar is not drawn
  std::string shown;   // the row's total as published
};

std::vector<Bar> Bars(const StatsTable& t, bool stacked) {
  std::vector<Bar> bars;
  const int cols = t.grid.cols;
  for (int i = 0; i < t.grid.rows; ++i) {
    Bar b;
    b.label = RowLabel(t, i);
    b.axis = AxisLabel(t, i, b.label);
    b.shown = Shown(t, i, cols, true);
    b.drawn = t.grid.mark(i, cols) == Mark::kShown;
    if (b.drawn) {
      int64_t published = 0;
      if (stacked) {
        for (int j = 0; j < cols; ++j) {
          if (t.grid.mark(i, j) != Mark::kShown) continue;
          b.parts.emplace_back(j, t.grid.at(i, j));
          published += t.grid.at(i, j);
        }
        b.hidden = t.grid.at(i, cols) - published;
      } else {
        b.parts.emplace_back(0, t.grid.at(i, cols));
      }
    }
    bars.push_back(std::move(b));
  }
  return bars;
}

// Vertical bars, one per row of the table (stacked by the breakdown's columns when `stacked`), the
// total written above each; a hidden total is written where its bar would stand.
std::string SvgBars(const StatsTable& t, bool stacked) {
  const std::vector<Bar> bars = Bars(t, stacked);
  if (bars.empty()) return "";
  int64_t top = 1;
  for (const Bar& b : bars) {
    int64_t sum = b.hidden;
    for (const auto& part : b.parts) sum += part.second;
    top = std::max(top, sum);
  }
  const double width = 680, height = 240, left = 10, base = 200, room = 170;
  const double step = (width - 2 * left) / static_cast<double>(bars.size());
  const double bar = std::min(60.0, step * 0.7);
  std::string svg = "<svg class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    Number(width) + " " + Number(height) + "\" width=\"" + Number(width) + "\" height=\"" +
                    Number(height) + "\">";
  for (size_t k = 0; k < bars.size(); ++k) {
    const Bar& b = bars[k];
    const double x = left + step * static_cast<double>(k) + (step - bar) / 2;
    double y = base;
    auto segment = [&](int64_t value, const char* colour, const std::string& title) {
      const double h = room * static_cast<double>(value) / static_cast<double>(top);
      y -= h;
      svg += "<rect class=\"bar\" x=\"" + Number(x) + "\" y=\"" + Number(y) + "\" width=\"" + Number(bar) +
             "\" height=\"" + Number(h) + "\" fill=\"" + colour + "\"><title>" + Escaped(title) + "</title></rect>";
    };
    for (const auto& [column, value] : b.parts)
      segment(value, kColours[size_t(column) % kColours.size()],
              b.label + (stacked ? " — " + t.column_labels[size_t(column)] : "") + " : " + FrenchCount(value));
    if (b.hidden > 0) segment(b.hidden, kHiddenColour, b.label + " — masqué (secret statistique)");
    svg += "<text x=\"" + Number(x + bar / 2) + "\" y=\"" + Number(y - 4) + "\" text-anchor=\"middle\">" +
           Escaped(b.shown) + "</text>";
    svg += "<text x=\"" + Number(x + bar / 2) + "\" y=\"" + Number(base + 16) + "\" text-anchor=\"middle\">" +
           Escaped(b.axis) + "</text>";
  }
  svg += "<line x1=\"" + Number(left) + "\" y1=\"" + Number(base) + "\" x2=\"" + Number(width - left) + "\" y2=\"" +
         Number(base) + "\" stroke=\"#333\"/></svg>";
  if (stacked) {
    svg += "<p class=\"legend\">";
    for (size_t j = 0; j < t.column_labels.size(); ++j) {
      svg += std::string("<span><i style=\"background:") + kColours[j % kColours.size()] + "\"></i>" +
             Escaped(t.column_labels[j]) + "</span> ";
    }
    svg += std::string("<span><i style=\"background:") + kHiddenColour + "\"></i>masqué</span></p>";
  }
  return svg;
}

// The table with its totals, as `stats` prints it; transposed: the breakdown's values as rows.
std::string HtmlTable(const StatsTable& t, bool transpose) {
  const int rows = t.grid.rows, cols = t.grid.cols;
  const bool with_row_totals = t.breakdown != nullptr;
  // The table as lines of text cells, then turned when asked.
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> heading;
  std::string corner;
  for (const Dimension* d : t.by) corner += (corner.empty() ? "" : " — ") + std::string(d->label);
  heading.push_back(corner);
  for (const std::string& c : t.column_labels) heading.push_back(c);
  if (with_row_totals) heading.emplace_back("Total");
  lines.push_back(heading);
  for (int i = 0; i <= rows; ++i) {
    std::vector<std::string> line = {i < rows ? RowLabel(t, i) : "Total"};
    for (int j = 0; j < cols; ++j) line.push_back(Shown(t, i, j, true));
    if (with_row_totals) line.push_back(Shown(t, i, cols, true));
    lines.push_back(std::move(line));
  }
  if (transpose) {
    std::vector<std::vector<std::string>> turned(lines.front().size(), std::vector<std::string>(lines.size()));
    for (size_t r = 0; r < lines.size(); ++r)
      for (size_t c = 0; c < lines[r].size(); ++c) turned[c][r] = lines[r][c];
    turned[0][0] = t.breakdown ? std::string(t.breakdown->label) : corner;
    lines = std::move(turned);
  }
  std::string html = "<table><thead><tr>";
  for (const std::string& cell : lines.front()) html += "<th>" + Escaped(cell) + "</th>";
  html += "</tr></thead><tbody>";
  for (size_t r = 1; r < lines.size(); ++r) {
    html += r + 1 == lines.size() ? "<tr class=\"total\">" : "<tr>";
    for (size_t c = 0; c < lines[r].size(); ++c) {
      html += c == 0 ? "<th>" + Escaped(lines[r][c]) + "</th>" : "<td>" + Escaped(lines[r][c]) + "</td>";
    }
    html += "</tr>";
  }
  html += "</tbody></table>";
  return html;
}

Query QueryOf(const ReportRequest& r, const std::string& measure, const std::string& by,
              const std::string& breakdown) {
  Query q;
  q.from = std::to_string(r.year) + "-01-01";
  q.to = std::to_string(r.year) + "-12-31";
  q.by = {by};
  q.measure = measure;
  q.breakdown = breakdown;
  q.territory = r.territory;
  q.min_count = r.min_count;
  q.internal = r.internal;
  q.scope = r.scope;
  return q;
}

constexpr const char* kStyle =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:11pt;color:#222;max-width:720px;margin:2em auto}"
    "h1{font-size:20pt;margin-bottom:0}h2{font-size:13pt;margin-top:1.6em;border-bottom:1px solid #999;"
    "break-after:avoid}section{break-inside:avoid}table{border-collapse:collapse;margin:.6em 0;font-size:9.5pt}"
    "th,td{border:1px solid #bbb;padding:2px 6px}td{text-align:right}thead th{background:#eee}"
    "tr.total{font-weight:bold}.chart text{font-size:10px}.legend{font-size:9pt}.legend i{display:inline-block;"
    "width:10px;height:10px;margin:0 4px 0 8px}.internal{border:2px solid #b00;color:#b00;padding:.4em;"
    "font-weight:bold;text-align:center}.keys{display:flex;flex-wrap:wrap;gap:.6em}.keys div{border:1px solid "
    "#bbb;padding:.4em .8em}.keys b{display:block;font-size:16pt}.note{font-size:9pt;color:#555}"
    "@page{size:A4;margin:15mm}";

// The report's tables are linked: the year's total of a measure is a key figure, and a table by
// month or by reception point gives the totals another table of the same counts by month or point
// also has. Protected one by one, a total hidden in one table and published in another would give
// a hidden count away by subtraction. So the report remembers what it published of each measure's
// totals, and protects each table knowing them: a total published before stays published (never a
// complement), one hidden before is hidden again; a table that cannot be protected so is withheld.
class LinkedTotals {
 public:
  // Protects `t`, counted without protection, as published alongside what came before; false when
  // no protection holds (the table is then not to be published).
  bool Protect(StatsTable& t) {
    const std::string measure = Key(t);
    Grid& g = t.grid;
    std::fill(g.marks.begin(), g.marks.end(), Mark::kShown);
    g.known.assign(g.values.size(), false);
    auto link = [&](int i, int j, const std::optional<Mark>& before) {
      if (!before) return;
      if (*before == Mark::kShown) {
        g.known[size_t(i) * size_t(g.cols + 1) + size_t(j)] = true;
      } else {
        g.mark(i, j) = *before;
      }
    };
    link(g.rows, g.cols, Find(measure, "", ""));
    for (int i = 0; i < g.rows; ++i) link(i, g.cols, Find(measure, t.by.front()->name, t.row_keys[size_t(i)].front()));
    stats::Protect(g, t.query.min_count);
    if (!Safe(g, t.query.min_count)) return false;
    Remember(t);
    return true;
  }
  // What a key figure publishes: the grand total, shown unless it is a small count.
  void RememberTotal(const StatsTable& t) { published_[{Key(t), "", ""}] = t.grid.mark(t.grid.rows, t.grid.cols); }

 private:
  using Entry = std::tuple<std::string, std::string, std::string>;  // measure, dimension, key
  // A breakdown by reason counts each reason of a visit: its totals are not the visits'.
  static std::string Key(const StatsTable& t) {
    return std::string(t.measure->name) + (t.breakdown && t.breakdown->name == "reason" ? "/reasons" : "");
  }
  std::optional<Mark> Find(const std::string& measure, std::string_view dimension, const std::string& key) const {
    auto found = published_.find({measure, std::string(dimension), key});
    if (found == published_.end()) return std::nullopt;
    return found->second;
  }
  void Remember(const StatsTable& t) {
    const std::string measure = Key(t);
    published_[{measure, "", ""}] = t.grid.mark(t.grid.rows, t.grid.cols);
    if (t.by.size() != 1) return;
    for (int i = 0; i < t.grid.rows; ++i)
      published_[{measure, std::string(t.by.front()->name), t.row_keys[size_t(i)].front()}] = t.grid.mark(i, t.grid.cols);
  }
  std::map<Entry, Mark> published_;
};

}  // namespace

Status CheckReport(const ReportRequest& request) {
  if (request.year < 2000 || request.year > 2100) {
    return MakeError(ErrorCode::kUsage, "--year " + std::to_string(request.year) + " : attendu une année, 2026 par exemple");
  }
  return CheckQuery(QueryOf(request, "visits", "month", ""));
}

namespace {

// The sessions of the partners' permanences: planned, held, cancelled, moved, by reception point,
// with a stacked bar of those held and cancelled. Sessions are not people: nothing is hidden.
Result<std::string> SessionsSection(const ReportRequest& r, Database& db) {
  auto counted = CountSessions(db, r.year, r.territory.value_or(""));
  if (!counted) return counted.error();
  std::string html = "<section id=\"seances\"><h2>Permanences des partenaires : séances tenues et annulées</h2>";
  if (counted->empty()) return html + "<p>Aucune permanence sur l'année.</p></section>";
  StatsTable chart;
  chart.query.internal = true;
  chart.by = {FindDimension("reception_point")};
  chart.column_labels = {"tenues", "annulées"};
  chart.grid = Grid(static_cast<int>(counted->size()), 2);
  SessionCounts total;
  std::string rows;
  auto line = [](const std::string& head, const SessionCounts& c) {
    return "<th>" + Escaped(head) + "</th><td>" + FrenchCount(c.planned) + "</td><td>" + FrenchCount(c.held) +
           "</td><td>" + FrenchCount(c.cancelled) + "</td><td>" + FrenchCount(c.moved) + "</td></tr>";
  };
  for (size_t i = 0; i < counted->size(); ++i) {
    const SessionCounts& c = (*counted)[i];
    const std::string name = c.reception_point.empty() ? "(non renseigné)" : c.reception_point;
    chart.row_keys.push_back({c.reception_point});
    chart.row_labels.push_back({name});
    chart.grid.at(static_cast<int>(i), 0) = c.held;
    chart.grid.at(static_cast<int>(i), 1) = c.cancelled;
    total.planned += c.planned;
    total.held += c.held;
    total.cancelled += c.cancelled;
    total.moved += c.moved;
    rows += "<tr>" + line(name, c);
  }
  chart.grid.Total();
  html += SvgBars(chart, true);
  html += "<table><thead><tr><th>Point d'accueil</th><th>Prévues</th><th>Tenues</th><th>Annulées</th>"
          "<th>Déplacées</th></tr></thead><tbody>" +
          rows + "<tr class=\"total\">" + line("Total", total) + "</tbody></table>";
  return html + "<p class=\"note\">Séances prévues par la périodicité de chaque permanence ; une séance déplacée "
                "est tenue le jour où elle a été reportée (comptée parmi les tenues), sauf si elle y est annulée. "
                "Des séances, non des personnes : rien n'est masqué.</p></section>";
}

// The staff time by mission in full-time equivalents (annex 5 of the conventions).
Result<std::string> StaffTimeSection(const ReportRequest& r, Database& db) {
  auto counted = CountStaffTime(db, r.year, r.territory.value_or(""));
  if (!counted) return counted.error();
  const StaffTime& t = *counted;
  std::string html = "<section id=\"etp\"><h2>Temps de travail par mission (ETP)</h2>";
  if (t.counsellors == 0 && t.missions.empty()) {
    return html + "<p>Ni temps de travail déclaré ni durée enregistrée sur l'année (relais working-time add, "
                  "et --minutes sur les visites et les suivis).</p></section>";
  }
  auto hours = [](int64_t minutes) { return FrenchCount((minutes + 30) / 60); };
  html += "<table><thead><tr><th>Mission</th><th>Temps enregistré (h)</th><th>ETP</th></tr></thead><tbody>";
  int64_t minutes = 0;
  for (const MissionTime& m : t.missions) {
    minutes += m.minutes;
    std::string label = m.label;
    if (!label.empty() && label[0] >= 'a' && label[0] <= 'z') label[0] = static_cast<char>(label[0] - 'a' + 'A');
    html += "<tr><th>" + Escaped(label) + "</th><td>" + hours(m.minutes) + "</td><td>" + EtpText(m.etp) +
            "</td></tr>";
  }
  if (t.unassigned_etp > 0) {
    html += "<tr><th>Non ventilé (aucune durée enregistrée)</th><td>0</td><td>" + EtpText(t.unassigned_etp) +
            "</td></tr>";
  }
  html += "<tr class=\"total\"><th>Total</th><td>" + hours(minutes) + "</td><td>" + EtpText(t.declared_etp) +
          "</td></tr></tbody></table>";
  html += "<p class=\"note\">" + std::to_string(t.counsellors) +
          " conseiller(s) au temps de travail déclaré. Le temps déclaré de chacun sur l'année (quotité × part "
          "de l'année couverte) est réparti entre les missions au prorata des durées qu'il a enregistrées sur ses "
          "visites (accueil) et ses entrées de suivi (leur type).</p>";
  if (t.undeclared_minutes > 0) {
    html += "<p class=\"note\">" + hours(t.undeclared_minutes) +
            " h enregistrées sans temps de travail déclaré (" + std::to_string(t.undeclared_counsellors) +
            " conseiller(s), ou sans conseiller nommé) : comptées en heures, non converties en ETP. Déclarez-le "
            "avec relais working-time add.</p>";
  }
  return html + "</section>";
}

}  // namespace

Result<std::string> AnnualReport(const ReportRequest& request, Database& db) {
  RELAIS_TRY(CheckReport(request));
  const std::string year = std::to_string(request.year);
  std::string scope = request.scope;
  if (request.territory) scope += ", territoire " + *request.territory;
  std::string html = "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Rapport d'activité " +
                     year + " — " + Escaped(scope) + "</title><style>" + kStyle + "</style></head><body>";
  if (request.internal) html += std::string("<p class=\"internal\">") + kInternalMark + "</p>";
  html += "<h1>Rapport d'activité " + year + "</h1><p>Périmètre : " + Escaped(scope) + ". Du 1er janvier au 31 décembre " +
          year + ", établi le " + Escaped(request.made_on) + ".</p>";

  // Counted unprotected, then protected here as linked tables (LinkedTotals).
  const bool protect = !request.internal;
  auto raw = [&](const std::string& measure, const std::string& by, const std::string& breakdown) {
    Query q = QueryOf(request, measure, by, breakdown);
    q.internal = true;
    auto table = Compute(q, db);
    if (table) table->query.internal = request.internal;
    return table;
  };
  LinkedTotals linked;
  html += "<h2>Chiffres clés</h2><div class=\"keys\" id=\"chiffres-cles\">";
  for (const auto& [measure, words] : kKeyFigures) {
    auto table = raw(measure, "territory", "");
    if (!table) return table.error();
    Grid& g = table->grid;
    std::fill(g.marks.begin(), g.marks.end(), Mark::kShown);
    const int64_t total = g.at(g.rows, g.cols);
    if (protect && total >= 1 && total < request.min_count) g.mark(g.rows, g.cols) = Mark::kPrimary;
    linked.RememberTotal(*table);
    html += "<div><b>" + Escaped(Shown(*table, g.rows, g.cols, true)) + "</b>" + words + "</div>";
  }
  html += "</div>";

  std::vector<std::string> legend;
  for (const Section& s : Sections()) {
    auto table = raw(s.measure, s.by, s.breakdown);
    if (!table) return table.error();
    html += "<section><h2>" + Escaped(s.heading) + "</h2>";
    if (table->grid.rows == 0) {
      html += "<p>Rien à compter sur l'année.</p></section>";
      continue;
    }
    if (protect && !linked.Protect(*table)) {
      html += "<p class=\"withheld\">Tableau non publié : avec les totaux déjà publiés plus haut, ses petits "
              "effectifs se recalculeraient (secret statistique).</p></section>";
      continue;
    }
    if (s.chart != Chart::kNone) html += SvgBars(*table, s.chart == Chart::kStacked);
    html += HtmlTable(*table, s.transpose);
    for (const std::string& note : table->notes) html += "<p class=\"note\">" + Escaped(note) + "</p>";
    html += "</section>";
    for (const std::string& line : Legend(*table))
      if (std::find(legend.begin(), legend.end(), line) == legend.end()) legend.push_back(line);
  }
  for (auto* section : {&SessionsSection, &StaffTimeSection}) {
    auto part = section(request, db);
    if (!part) return part.error();
    html += *part;
  }
  html += "<h2>Secret statistique</h2>";
  for (const std::string& line : legend) html += "<p>" + Escaped(line) + "</p>";
  html += "<p class=\"note\">Comptes faits par Relais avec le moteur de <code>stats</code> (docs/STATISTICS.md), " +
          std::string(request.internal ? "sans masquer les petits effectifs."
                                       : "chaque effectif de 1 à " + std::to_string(request.min_count - 1) +
                                             " masqué, et assez d'autres pour qu'aucun ne se recalcule.") +
          "</p></body></html>\n";
  return html;
}

}  // namespace relais::stats
