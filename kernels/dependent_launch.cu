#include "dependent_launch.cuh"

#include <mutex>
#include <unordered_map>

namespace folio::kernels {

bool compiledWithDependentWait(const void* kernel) {
    static std::mutex mutex;
    static std::unordered_map<const void*, bool> known;
    const std::lock_guard lock(mutex);
    if (auto it = known.find(kernel); it != known.end()) return it->second;
    // ptxVersion is the virtual architecture the running code came from: 90 for a sm_90a
    // build, 80 for sm_80 PTX compiled for this card at load.
    cudaFuncAttributes attributes{};
    if (cudaFuncGetAttributes(&attributes, kernel) != cudaSuccess) {
        (void)cudaGetLastError(); // the launch that follows reports its own failure
        return false;
    }
    const bool waits = attributes.ptxVersion >= 90;
    known.emplace(kernel, waits);
    return waits;
}

} // namespace folio::kernels
