#pragma once

#include "steps/stepkind.h"

namespace keepflow {

/// `shell`: runs argv directly (no shell unless with.shell is true; then argv[0] is the script
/// and the remaining elements are its positional parameters "$1"...), in its own process group so
/// that a timeout kills everything it started. Exit 0 succeeds; permanent_exit_codes fail for
/// good; any other exit or a signal is transient. Each of stdout and stderr keeps its first MiB.
class ShellStep final : public StepKind {
public:
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                     CompletionCallback done) override;
};

} // namespace keepflow
