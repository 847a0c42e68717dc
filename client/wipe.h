// Wipe on revocation: a device revoked with `relais-central device revoke --wipe` erases its replica
// at its next contact with its centre (docs/PROTOCOL.md, "Wipe order"; docs/THREATS.md). This
// module judges whether an order may be obeyed and erases the files; `relais sync`
// (client/cli/sync_cmd.cc) asks the centre and tells the counsellor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace relais::client {

// Whether a wipe order may be obeyed. It is obeyed only when it comes from the centre this replica
// follows, as far as the device can tell: the store_id the order names is the one the replica
// recorded (a server at the address that is not that centre, a captive portal or a hostile host,
// does not know it from the replica), and the answer did not cross the network in clear (over
// http:// to another machine anybody on the way could forge it).
enum class WipeVerdict {
  kObey,
  kCentreUnknown,  // the replica never recorded its centre's store_id: nothing to check against
  kOtherCentre,    // the order names another store_id, or none
  kClearText,      // the replica reaches its centre over http:// to another machine (--insecure-http)
};

// Pure. `known_store_id`: the replica's (empty when it has none); `ordered_store_id`: the order's.
WipeVerdict JudgeWipeOrder(const std::string& known_store_id, const std::string& ordered_store_id,
                           bool clear_text_to_network);

// The files a wipe erases for the replica at `path`, the database first: the database and every
// file SQLite keeps beside it for it (its write-ahead log, its shared-memory index, its rollback
// journal). Files elsewhere that a person wrote (an export) are not the replica's.
std::vector<std::string> ReplicaFiles(const std::string& path);

// Erases the replica at `path`, which must be closed: its data key is forgotten in the session
// keyring (client/keyring.h) when it is an encrypted replica, then each file of ReplicaFiles() that
// exists is overwritten with zeros over its whole length, flushed to the disk (fsync), then removed;
// then the folder is flushed. Returns the files erased. On failure, kIo naming the file; the files before it
// are erased, and those after it are left (running it again finishes the work). On SSDs and
// copy-on-write file systems the overwrite is best effort: the old blocks may survive elsewhere on
// the device, which is why the replica is encrypted at rest.
Result<std::vector<std::string>> WipeReplicaFiles(const std::string& path);

// What `relais sync` says, in French, after it erased the replica at `path` on its centre's order:
// what happened, the `unaccepted` changes that were lost, and what to do (contact central staff,
// then `relais init` with a new token).
std::string WipedText(const std::string& path, int64_t unaccepted);

// What `relais sync` says when it does not obey the order of the server at `server` (`verdict` is
// not kObey): nothing was erased, why, and what to do. `known_store_id` and `ordered_store_id` as
// given to JudgeWipeOrder.
std::string WipeRefusedText(WipeVerdict verdict, const std::string& server, const std::string& known_store_id,
                            const std::string& ordered_store_id);

}  // namespace relais::client
