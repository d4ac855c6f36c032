#pragma once
// Device memory owned by the engine, with a byte count for the memory report.

#include "cuda_status.h"

#include <cstddef>
#include <utility>

namespace sala::cuda {

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { release(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            release();
            ptr_ = std::exchange(o.ptr_, nullptr);
            bytes_ = std::exchange(o.bytes_, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    // Frees what was held, then allocates `bytes` (contents undefined).
    Status allocate(size_t bytes) {
        release();
        if (bytes == 0) return {};
        SALA_CUDA(cudaMalloc(&ptr_, bytes));
        bytes_ = bytes;
        return {};
    }
    // Grows to at least `bytes`, keeping the first `keep` bytes.
    Status grow(size_t bytes, size_t keep, cudaStream_t stream) {
        if (bytes <= bytes_) return {};
        void* fresh = nullptr;
        SALA_CUDA(cudaMalloc(&fresh, bytes));
        if (keep > 0) {
            const cudaError_t e =
                cudaMemcpyAsync(fresh, ptr_, keep, cudaMemcpyDeviceToDevice, stream);
            if (e == cudaSuccess) cudaStreamSynchronize(stream);
            if (e != cudaSuccess) {
                cudaFree(fresh);
                return cudaStatus(e, "grow copy");
            }
        }
        release();
        ptr_ = fresh;
        bytes_ = bytes;
        return {};
    }
    void release() {
        if (ptr_) cudaFree(ptr_);
        ptr_ = nullptr;
        bytes_ = 0;
    }

    template <typename T = void> T* as() const { return static_cast<T*>(ptr_); }
    void* get() const { return ptr_; }
    size_t bytes() const { return bytes_; }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

} // namespace sala::cuda
