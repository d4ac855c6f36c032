#pragma once
// Runs a reference case (a model folder with case.json and expected.safetensors, see
// tests/data/golden/README.md) through a backend and compares every output.

#include "backend.h"
#include "result.h"

#include <filesystem>
#include <functional>
#include <string>

namespace sala {

struct GoldenTolerances {
    double logitsMaxRelL2 = 1e-4;
    double hiddenMaxRelL2 = 1e-4;
    bool requireTokens = true;     // greedy tokens identical
    bool requireSelections = true; // selected blocks identical
};

struct GoldenReport {
    double maxRelErr = 0; // largest relative L2 error over every compared row
    double maxHiddenRelErr = 0;
    bool tokensMatch = true;
    bool selectionsMatch = true;
    int rowsCompared = 0;
    int schedules = 0;
    bool passed = false;
};

// `log` receives a human-readable line per schedule and per failure. The case's own
// tolerances are used unless `override` is given. Decoding is teacher-forced: the expected
// greedy tokens are fed, and the engine's own argmax is checked against them.
Result<GoldenReport> runGoldenCase(const std::filesystem::path& caseDir, BackendKind backend,
                                   const std::function<void(const std::string&)>& log,
                                   const GoldenTolerances* override = nullptr);

// ‖got − expected‖ / ‖expected‖; NaN anywhere gives +inf.
double relativeL2(const float* got, const float* expected, size_t n);

} // namespace sala
