#include "gpu_test_util.h"

#include <QString>
#include <QtGlobal>

#include <algorithm>

namespace gputest {

bool haveGpu(std::string& why) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        why = std::string("no CUDA GPU available (") +
              (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices") + ")";
        return false;
    }
    return true;
}

std::vector<float> randomFloats(size_t n, std::mt19937& rng, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

std::vector<__nv_bfloat16> toBf16(const std::vector<float>& v) {
    std::vector<__nv_bfloat16> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = __float2bfloat16(v[i]);
    return out;
}

std::vector<float> fromBf16(const std::vector<__nv_bfloat16>& v) {
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = __bfloat162float(v[i]);
    return out;
}

std::vector<float> roundBf16(const std::vector<float>& v) {
    return fromBf16(toBf16(v));
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

std::mt19937 freshRng() {
    // FOLIO_TEST_SEED replays a printed seed, for a failure that shows only now and then.
    bool fixed = false;
    const uint32_t given = qEnvironmentVariable("FOLIO_TEST_SEED").toUInt(&fixed);
    const uint32_t seed = fixed ? given : QRandomGenerator::global()->generate();
    qInfo("random seed %u%s", seed, fixed ? " (FOLIO_TEST_SEED)" : "");
    return std::mt19937(seed);
}

} // namespace gputest
