// Referrals of a case to a partner (orientation vers un partenaire) on the device: sending one, with
// the person's consent to sharing, following its answer (accepted, refused with a reason, done with
// feedback, given up), and reading them — also for the agenda (DueReferrals). Same contract as
// Records: each write is one transaction with its outbox entry, and a refused write changes nothing.
// The status moves along the transitions declared in schema/model.cc (checked by Records on the
// device and by the centre at push). docs/SCHEMA.md, "referrals — orientation vers un partenaire".
#pragma once

#include <string>
#include <vector>

#include "client/records.h"

namespace relais::client {

struct ReferralInput {
  std::string case_id, organisation, contact, service, due_on, note;
};

// Sends case `case_id` to partner `organisation` (a contact of the directory, as `contact`) for
// `service`: status envoyee, sent today. kNotFound for a case or contact this replica does not
// hold; kValidation when the case was merged into another, when the person has not consented to
// sharing (consent_sharing is not oui: the message says how to record it), or a value is invalid.
Result<schema::Record> AddReferral(Records& records, const ReferralInput& input);

struct ReferralUpdate {
  std::string status, reason, feedback;  // empty: unchanged
};

// Moves referral `id` to `update.status` with its reason (required for refusee) and feedback.
// kNotFound for an unknown referral; kUsage when nothing is given; kValidation for a move the
// schema does not declare, or a refusal without its reason.
Result<EditResult> UpdateReferral(Records& records, const std::string& id, const ReferralUpdate& update);

// A referral as people read it: the record, whom it concerns and where it went (empty when this
// replica does not hold the case or the contact), and whether it is overdue.
struct ReferralView {
  schema::Record referral;
  std::string case_name, organisation_name;
  bool overdue = false;
};

struct ReferralFilter {
  std::string case_id, status;  // empty: every one
  bool overdue_only = false;
  std::string today;  // the day "overdue" is measured on (YYYY-MM-DD); empty: the replica's today
};

// Whether a referral in `status`, due on `due_on` (may be empty), is overdue on `today`: its due date
// has passed and the partner's work is not over (envoyee or acceptee).
bool IsOverdue(const std::string& status, const std::string& due_on, const std::string& today);

// The referrals matching `filter`, by due date (none last), then sent date and id.
Result<std::vector<ReferralView>> ListReferrals(Records& records, const ReferralFilter& filter);

// For the agenda: the referrals still waiting on the partner (envoyee or acceptee) whose due date
// lies in [from, to], and those already overdue on `from` (due before it), by due date then id.
// Dates are YYYY-MM-DD (kValidation otherwise).
Result<std::vector<ReferralView>> DueReferrals(Records& records, const std::string& from, const std::string& to);

}  // namespace relais::client
