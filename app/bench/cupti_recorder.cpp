#include "cupti_recorder.h"

#include <cupti.h>

#include <cstdlib>
#include <mutex>
#include <utility>

#if CUPTI_API_VERSION < 130000
#error "the recorder reads CUpti_ActivityKernel10 records (CUDA 13)"
#endif

namespace folio::bench {

namespace {

// CUPTI hands completed buffers to plain callbacks, so the records collect here.
std::mutex gLock;
std::vector<TimelineRecord> gRecords;
bool gActive = false;

constexpr size_t kBufferBytes = size_t(8) << 20;

void CUPTIAPI bufferRequested(uint8_t** buffer, size_t* size, size_t* maxRecords) {
    *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, kBufferBytes));
    *size = *buffer ? kBufferBytes : 0;
    *maxRecords = 0;
}

void CUPTIAPI bufferCompleted(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
    std::lock_guard<std::mutex> guard(gLock);
    CUpti_Activity* r = nullptr;
    while (cuptiActivityGetNextRecord(buffer, valid, &r) == CUPTI_SUCCESS) {
        switch (r->kind) {
        case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        case CUPTI_ACTIVITY_KIND_KERNEL: {
            const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(r);
            gRecords.push_back({k->name ? k->name : "[kernel]", k->start, k->end});
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMCPY: {
            const auto* m = reinterpret_cast<const CUpti_ActivityMemcpy6*>(r);
            gRecords.push_back({"[memcpy]", m->start, m->end});
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMSET: {
            const auto* m = reinterpret_cast<const CUpti_ActivityMemset4*>(r);
            gRecords.push_back({"[memset]", m->start, m->end});
            break;
        }
        default:
            break;
        }
    }
    std::free(buffer);
}

const CUpti_ActivityKind kKinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL,
                                     CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_MEMSET};

std::string describe(CUptiResult r) {
    const char* text = nullptr;
    cuptiGetResultString(r, &text);
    return text ? text : "unknown CUPTI error";
}

} // namespace

std::unique_ptr<CuptiRecorder> CuptiRecorder::start(std::string& error) {
    std::lock_guard<std::mutex> guard(gLock);
    if (gActive) {
        error = "a timeline is already being recorded";
        return nullptr;
    }
    CUptiResult r = cuptiActivityRegisterCallbacks(bufferRequested, bufferCompleted);
    for (CUpti_ActivityKind kind : kKinds)
        if (r == CUPTI_SUCCESS) r = cuptiActivityEnable(kind);
    if (r != CUPTI_SUCCESS) {
        for (CUpti_ActivityKind kind : kKinds) cuptiActivityDisable(kind);
        error = "CUPTI: " + describe(r);
        return nullptr;
    }
    gActive = true;
    gRecords.clear();
    return std::unique_ptr<CuptiRecorder>(new CuptiRecorder());
}

CuptiRecorder::~CuptiRecorder() {
    cuptiActivityFlushAll(1);
    for (CUpti_ActivityKind kind : kKinds) cuptiActivityDisable(kind);
    std::lock_guard<std::mutex> guard(gLock);
    gRecords.clear();
    gActive = false;
}

uint64_t CuptiRecorder::now() const {
    uint64_t t = 0;
    cuptiGetTimestamp(&t);
    return t;
}

std::vector<TimelineRecord> CuptiRecorder::take() {
    cuptiActivityFlushAll(1);
    std::lock_guard<std::mutex> guard(gLock);
    return std::exchange(gRecords, {});
}

} // namespace folio::bench
