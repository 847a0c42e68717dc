#include "server/pull_page.h"

namespace relais::server {

sync::ConflictNotice NoticeOf(const Conflict& c, bool settled, int64_t seq, const Device& viewer) {
  sync::ConflictNotice n;
  n.id = c.id;
  n.kind = c.kind;
  n.status = settled ? "settled" : "open";
  n.table = c.table;
  n.record_id = c.record_id;
  n.field = c.field.value_or("");
  n.other_id = c.other_id.value_or("");
  n.base_value = c.base_value;
  n.server_value = c.server_value;
  n.device_value = c.device_value;
  n.device = c.device;
  n.server_device = c.server_device;
  if (settled) {
    n.settled_value = c.settled_value;
    n.settlement = c.settlement.value_or("");
  }
  if (c.kind == "duplicate" && !(c.other_territory && viewer.InScope(*c.other_territory))) {
    n.other_id.clear();
    if (n.settlement == "merged") n.settled_value.reset();
  }
  n.seq = seq;
  return n;
}

}  // namespace relais::server
