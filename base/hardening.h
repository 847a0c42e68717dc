// What both programs do to themselves first thing in main(), because they hold personal data and
// device tokens (docs/SERVER.md, "Deployment"; docs/THREATS.md).
#pragma once

namespace relais {

// Sets the umask to 077, so that every file and folder the process creates is its owner's alone
// (files of personal data are also created 0600 where they are made: sqlite::CreatePrivateFile);
// and, unless the environment variable RELAIS_CORE_DUMPS is "1", turns core dumps of the process
// off: RLIMIT_CORE 0 (the soft limit) and PR_SET_DUMPABLE 0, which also keeps other processes of the
// same user from attaching to it or reading its memory through /proc. A crash then leaves no image
// of memory that held case notes or tokens. Best effort: a call the system refuses is ignored.
// Call before any thread starts (the umask is per process).
void HardenProcess();

}  // namespace relais
