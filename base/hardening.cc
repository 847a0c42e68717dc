#include "base/hardening.h"

#include <sys/resource.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <cstdlib>
#include <cstring>

namespace relais {

void HardenProcess() {
  ::umask(077);
  const char* asked = std::getenv("RELAIS_CORE_DUMPS");
  if (asked != nullptr && std::strcmp(asked, "1") == 0) return;  // debugging: dumps as the system allows
  // The soft limit only: the hard one stays, so that a debugger's user (gdb's gcore, a test) may
  // raise it again from outside; the process being non-dumpable still writes no core then.
  rlimit core{};
  if (::getrlimit(RLIMIT_CORE, &core) == 0) {
    core.rlim_cur = 0;
    (void)::setrlimit(RLIMIT_CORE, &core);
  }
#if defined(__linux__)
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

}  // namespace relais
