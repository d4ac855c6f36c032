#pragma once
// The prefilled context a decode measurement starts from. With a state folder, a context saved
// there by an earlier run of the same model and length is reopened instead of prefilled again:
// A/B runs of two builds at 1,048,576 tokens then pay the minute-long prefill once, not once per
// build (the state file's format must be the same in both builds).

#include "backend.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace folio::bench {

struct PrefillRun {
    std::unique_ptr<sala::Context> context;
    int next = 0;              // the token the first decode step reads
    double prefillSeconds = 0; // the prefill's figures, when it ran
    double ttftSeconds = 0;
    bool reopened = false; // reopened from the state folder instead
    double reopenSeconds = 0;
    std::string note; // why a state file present was not used, if it was not
    std::string error;
};

// The state file of a context of `length` tokens of this model and token seed in `folder`.
std::filesystem::path prefillStateFile(const std::filesystem::path& folder,
                                       const sala::Model& model, int64_t length, uint64_t seed);

// A context of `length` random tokens (drawn from `seed`), prefilled in chunks of `chunk`,
// room reserved for `extra` more. With `stateFolder`, the state file there is reopened when it
// loads and holds `length` tokens; otherwise the prefill runs and its state is written there for
// the next run. `onPrefill(true/false)` is called when a prefill begins and ends.
PrefillRun prefillContext(sala::Backend& backend, int64_t length, int64_t extra, int chunk,
                          uint64_t seed, const std::optional<std::filesystem::path>& stateFolder,
                          const std::function<void(bool)>& onPrefill = {});

} // namespace folio::bench
