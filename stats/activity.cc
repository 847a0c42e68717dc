#include "stats/activity.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/text.h"
#include "schema/display.h"
#include "schema/sessions.h"
#include "stats/model.h"

namespace relais::stats {

namespace {

// The columns of `table`'s fields in declared order, after its id, as a SELECT list.
std::string ColumnsOf(const schema::Table& table) {
  std::string list = "id";
  for (const schema::Field& f : table.fields) list += ", " + std::string(f.name);
  return list;
}

Result<std::vector<schema::Record>> ReadRecords(Database& db, const schema::Table& table, const std::string& territory) {
  std::vector<schema::Record> out;
  const std::string sql = "SELECT " + ColumnsOf(table) + " FROM " + std::string(table.name) +
                          " WHERE (?1 = '' OR territory = ?1) ORDER BY id";
  RELAIS_TRY(db.Read(sql, {territory}, static_cast<int>(table.fields.size()) + 1,
                     [&](const std::vector<schema::Value>& row) {
                       schema::Record r;
                       r.id = row[0].value_or("");
                       r.values.assign(row.begin() + 1, row.end());
                       out.push_back(std::move(r));
                     }));
  return out;
}

int64_t DaysOf(int year) {
  return schema::DayNumber(std::to_string(year + 1) + "-01-01") - schema::DayNumber(std::to_string(year) + "-01-01");
}

}  // namespace

Result<std::vector<SessionCounts>> CountSessions(Database& db, int year, const std::string& territory) {
  const schema::Table& pt = *schema::FindTable("permanences");
  const schema::Table& ct = *schema::FindTable("permanence_changes");
  auto permanences = ReadRecords(db, pt, territory);
  if (!permanences) return permanences.error();
  auto changes = ReadRecords(db, ct, territory);
  if (!changes) return changes.error();
  std::map<std::string, std::vector<schema::Record>> changes_of;
  const size_t of = static_cast<size_t>(ct.FieldIndex("permanence_id"));
  for (schema::Record& c : *changes) changes_of[c.values[of].value_or("")].push_back(std::move(c));
  const size_t point = static_cast<size_t>(pt.FieldIndex("reception_point"));
  std::map<std::string, SessionCounts> by_point;
  const int64_t first = schema::DayNumber(std::to_string(year) + "-01-01");
  const int64_t end = first + DaysOf(year);
  const std::vector<schema::Record> none;
  for (const schema::Record& p : *permanences) {
    auto found = changes_of.find(p.id);
    const std::vector<schema::Record>& mine = found == changes_of.end() ? none : found->second;
    SessionCounts& counts = by_point[p.values[point].value_or("")];
    for (int64_t day = first; day < end; ++day) {
      for (const schema::Session& s : schema::SessionsOn(p, mine, day)) {
        if (s.moved_from.empty()) ++counts.planned;
        if (s.state == schema::SessionState::kHeld) ++counts.held;
        if (s.state == schema::SessionState::kCancelled) ++counts.cancelled;
        if (s.state == schema::SessionState::kMoved) ++counts.moved;
      }
    }
  }
  std::vector<SessionCounts> out;
  for (auto& [name, counts] : by_point) {
    counts.reception_point = name;
    out.push_back(counts);
  }
  return out;
}

Result<StaffTime> CountStaffTime(Database& db, int year, const std::string& territory) {
  const std::string from = std::to_string(year) + "-01-01", to = std::to_string(year) + "-12-31";
  // Minutes by counsellor (folded name) and mission.
  std::map<std::string, std::map<std::string, int64_t>> recorded;
  std::map<std::string, std::string> names;  // folded → as written
  const std::string sql =
      "SELECT v.author, 'accueil', sum(v.minutes) FROM visits v WHERE v.date >= ?1 AND v.date <= ?2 AND "
      "v.minutes IS NOT NULL AND (?3 = '' OR v.territory = ?3) AND " +
      std::string(FindMeasure("visits")->where) +
      " GROUP BY v.author UNION ALL "
      "SELECT f.author, f.kind, sum(f.minutes) FROM followups f JOIN cases c ON c.id = f.case_id WHERE f.date >= ?1 "
      "AND f.date <= ?2 AND f.minutes IS NOT NULL AND (?3 = '' OR c.territory = ?3) AND " +
      std::string(FindMeasure("followups")->where) + " GROUP BY f.author, f.kind";
  RELAIS_TRY(db.Read(sql, {from, to, territory}, 3, [&](const std::vector<schema::Value>& row) {
    const std::string author = row[0].value_or("");
    const std::string key = FoldForMatch(author);
    if (!author.empty()) names.emplace(key, author);
    recorded[key][row[1].value_or("autre")] += std::stoll(row[2].value_or("0"));
  }));
  // Declared ETP by counsellor over the year.
  const schema::Table& wt = *schema::FindTable("working_times");
  auto declared = ReadRecords(db, wt, territory);
  if (!declared) return declared.error();
  const auto field = [&wt](const schema::Record& r, std::string_view name) {
    return r.values[static_cast<size_t>(wt.FieldIndex(name))];
  };
  const int64_t first = schema::DayNumber(from), last = schema::DayNumber(to);
  std::map<std::string, double> etp;
  for (const schema::Record& r : *declared) {
    const int64_t start = std::max(first, schema::DayNumber(field(r, "valid_from").value_or(from)));
    const schema::Value until = field(r, "valid_until");
    const int64_t stop = std::min(last, until ? schema::DayNumber(*until) : last);
    if (stop < start) continue;
    const double share = std::stod(field(r, "percent").value_or("0")) / 100.0;
    etp[FoldForMatch(field(r, "counsellor").value_or(""))] +=
        share * static_cast<double>(stop - start + 1) / static_cast<double>(DaysOf(year));
  }
  StaffTime out;
  std::map<std::string, MissionTime> missions;
  for (const auto& [key, share] : etp) {
    ++out.counsellors;
    out.declared_etp += share;
    auto mine = recorded.find(key);
    int64_t total = 0;
    if (mine != recorded.end())
      for (const auto& [mission, minutes] : mine->second) total += minutes;
    if (total == 0) {
      out.unassigned_etp += share;
      continue;
    }
    for (const auto& [mission, minutes] : mine->second) {
      MissionTime& m = missions[mission];
      m.minutes += minutes;
      m.etp += share * static_cast<double>(minutes) / static_cast<double>(total);
    }
  }
  for (const auto& [key, by_mission] : recorded) {
    if (etp.count(key) > 0) continue;
    if (!key.empty()) ++out.undeclared_counsellors;
    for (const auto& [mission, minutes] : by_mission) {
      out.undeclared_minutes += minutes;
      missions[mission].minutes += minutes;
    }
  }
  const schema::Field* kind = schema::FollowupsTable().FindField("kind");
  for (std::string_view k : kind->choices) {
    auto m = missions.find(std::string(k));
    if (m == missions.end()) continue;
    m->second.mission = std::string(k);
    m->second.label = schema::DisplayValue(kind, std::string(k));
    out.missions.push_back(m->second);
    missions.erase(m);
  }
  for (auto& [mission, m] : missions) {  // a kind this program does not know (a newer peer's)
    m.mission = m.label = mission;
    out.missions.push_back(m);
  }
  return out;
}

std::string EtpText(double etp) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", etp);
  std::string out = text;
  std::replace(out.begin(), out.end(), '.', ',');
  return out;
}

}  // namespace relais::stats
