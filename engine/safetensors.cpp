#include "safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace sala {
namespace {

using Json = nlohmann::json;

struct DTypeInfo {
    DType dtype;
    const char* name;
    size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::BF16, "BF16", 2}, {DType::F16, "F16", 2},        {DType::F32, "F32", 4},
    {DType::I32, "I32", 4},   {DType::I64, "I64", 8},        {DType::U8, "U8", 1},
    {DType::F64, "F64", 8},   {DType::Bool, "BOOL", 1},      {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2},        {DType::U32, "U32", 4},
    {DType::U64, "U64", 8},   {DType::F8E4M3, "F8_E4M3", 1}, {DType::F8E5M2, "F8_E5M2", 1},
};

const DTypeInfo& info(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d;
    return kDTypes[0]; // unreachable: the table covers the enum
}

// Error helpers that always name the file and, where there is one, the tensor.
class Source {
public:
    explicit Source(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }
    Error fail(const std::string& what) const {
        return makeError(ErrorCode::Format, file_ + ": " + what);
    }
    Error fail(const std::string& tensor, const std::string& what) const {
        return makeError(ErrorCode::Format, file_ + ": tensor \"" + tensor + "\": " + what);
    }

private:
    std::string file_;
};

Result<std::string> readHeaderText(const MappedFile& file, const Source& src) {
    if (file.size() < 8)
        return src.fail("file is " + std::to_string(file.size()) +
                        " bytes, too short for a safetensors header");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file.data()[i]);
    if (n > kMaxSafetensorsHeaderBytes)
        return src.fail("header length " + std::to_string(n) + " exceeds the limit of " +
                        std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
    if (n > file.size() - 8)
        return src.fail("header length " + std::to_string(n) + " runs past the end of the file (" +
                        std::to_string(file.size()) + " bytes)");
    return std::string(reinterpret_cast<const char*>(file.data()) + 8, static_cast<size_t>(n));
}

// nlohmann keeps only the last of repeated keys; a repeated tensor name would silently hide one.
Result<Json> parseHeaderJson(const std::string& text, const Source& src) {
    std::set<std::string> seen;
    std::string duplicate;
    auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::key && depth == 1 && duplicate.empty() &&
            parsed.is_string() && !seen.insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
        return true;
    };
    Json root = Json::parse(text, callback, /*allow_exceptions=*/false);
    if (root.is_discarded()) return src.fail("header is not valid JSON");
    if (!root.is_object()) return src.fail("header is not a JSON object");
    if (!duplicate.empty()) return src.fail(duplicate, "appears more than once in the header");
    return root;
}

// A JSON integer in [0, INT64_MAX], or nothing.
std::optional<uint64_t> nonNegativeInt(const Json& v) {
    if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return u;
        return std::nullopt;
    }
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
    return std::nullopt;
}

Result<DType> readDType(const std::string& name, const Json& entry, const Source& src) {
    auto it = entry.find("dtype");
    if (it == entry.end()) return src.fail(name, "missing \"dtype\"");
    if (!it->is_string()) return src.fail(name, "\"dtype\" must be a string");
    auto dtype = parseDType(it->get<std::string>());
    if (!dtype) return src.fail(name, "unknown dtype \"" + it->get<std::string>() + "\"");
    return *dtype;
}

Result<std::vector<int64_t>> readShape(const std::string& name, const Json& entry,
                                       const Source& src) {
    auto it = entry.find("shape");
    if (it == entry.end()) return src.fail(name, "missing \"shape\"");
    if (!it->is_array()) return src.fail(name, "\"shape\" must be a list");
    std::vector<int64_t> shape;
    for (const auto& d : *it) {
        auto v = nonNegativeInt(d);
        if (!v) return src.fail(name, "shape " + d.dump() + " must be non-negative integers");
        shape.push_back(static_cast<int64_t>(*v));
    }
    return shape;
}

// numel × element size, or nothing if that does not fit in 64 bits.
std::optional<uint64_t> byteSize(const std::vector<int64_t>& shape, size_t elementSize) {
    uint64_t total = elementSize;
    for (int64_t d : shape)
        if (__builtin_mul_overflow(total, static_cast<uint64_t>(d), &total)) return std::nullopt;
    if (total > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return total;
}

struct Range {
    uint64_t begin = 0, end = 0;
};

Result<Range> readOffsets(const std::string& name, const Json& entry, const Source& src) {
    auto it = entry.find("data_offsets");
    if (it == entry.end()) return src.fail(name, "missing \"data_offsets\"");
    if (!it->is_array() || it->size() != 2)
        return src.fail(name, "\"data_offsets\" must be a list [begin, end]");
    auto begin = nonNegativeInt((*it)[0]);
    auto end = nonNegativeInt((*it)[1]);
    if (!begin || !end)
        return src.fail(name, "data_offsets " + it->dump() + " must be non-negative integers");
    if (*begin > *end) return src.fail(name, "data_offsets " + it->dump() + " begin after end");
    return Range{*begin, *end};
}

Result<TensorView> readEntry(const std::string& name, const Json& entry, size_t dataSize,
                             const Source& src, Range& range) {
    if (!entry.is_object()) return src.fail(name, "header entry is not an object");
    TensorView t;
    t.name = name;
    t.file = src.file();
    auto dtype = readDType(name, entry, src);
    if (!dtype) return dtype.error();
    t.dtype = *dtype;
    auto shape = readShape(name, entry, src);
    if (!shape) return shape.error();
    t.shape = std::move(*shape);
    auto offsets = readOffsets(name, entry, src);
    if (!offsets) return offsets.error();
    range = *offsets;
    auto expected = byteSize(t.shape, dtypeSize(t.dtype));
    if (!expected) return src.fail(name, "shape " + shapeString(t.shape) + " is too large");
    if (range.end - range.begin != *expected)
        return src.fail(name, "data_offsets span " + std::to_string(range.end - range.begin) +
                                  " bytes but " + dtypeName(t.dtype) + " " + shapeString(t.shape) +
                                  " needs " + std::to_string(*expected));
    if (range.end > dataSize)
        return src.fail(name, "data_offsets [" + std::to_string(range.begin) + ", " +
                                  std::to_string(range.end) + "] run past the data area (" +
                                  std::to_string(dataSize) + " bytes)");
    t.bytes = static_cast<size_t>(*expected);
    return t;
}

Status readMetadata(const Json& meta, const Source& src, std::map<std::string, std::string>& out) {
    if (!meta.is_object()) return src.fail("\"__metadata__\" must be an object");
    for (auto it = meta.begin(); it != meta.end(); ++it) {
        if (!it->is_string())
            return src.fail("\"__metadata__\" value of \"" + it.key() + "\" must be a string");
        out[it.key()] = it->get<std::string>();
    }
    return {};
}

// Gaps between tensors are harmless; shared bytes would mean a corrupt or hostile file.
Status checkOverlaps(const std::vector<TensorView>& tensors, const std::vector<Range>& ranges,
                     const Source& src) {
    std::vector<size_t> order;
    for (size_t i = 0; i < ranges.size(); ++i)
        if (ranges[i].end > ranges[i].begin) order.push_back(i);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return ranges[a].begin < ranges[b].begin; });
    for (size_t k = 1; k < order.size(); ++k) {
        const Range& prev = ranges[order[k - 1]];
        const Range& cur = ranges[order[k]];
        if (cur.begin < prev.end)
            return src.fail(tensors[order[k]].name,
                            "data overlaps tensor \"" + tensors[order[k - 1]].name + "\"");
    }
    return {};
}

} // namespace

size_t dtypeSize(DType dtype) {
    return info(dtype).size;
}

const char* dtypeName(DType dtype) {
    return info(dtype).name;
}

std::optional<DType> parseDType(std::string_view name) {
    for (const auto& d : kDTypes)
        if (name == d.name) return d.dtype;
    return std::nullopt;
}

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shapeString(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped) return mapped.error();
    Source src(path.string());
    SafetensorsFile f;
    f.file_ = std::move(*mapped);
    auto header = readHeaderText(f.file_, src);
    if (!header) return header.error();
    f.header_ = std::move(*header);
    auto root = parseHeaderJson(f.header_, src);
    if (!root) return root.error();

    const size_t dataSize = f.file_.size() - f.dataOffset();
    const std::byte* base = f.file_.data() + f.dataOffset();
    std::vector<Range> ranges;
    for (auto it = root->begin(); it != root->end(); ++it) {
        if (it.key() == "__metadata__") {
            SALA_TRY(readMetadata(*it, src, f.metadata_));
            continue;
        }
        Range range;
        auto t = readEntry(it.key(), *it, dataSize, src, range);
        if (!t) return t.error();
        t->data = base + range.begin;
        f.tensors_.push_back(std::move(*t));
        ranges.push_back(range);
    }
    SALA_TRY(checkOverlaps(f.tensors_, ranges, src));
    // nlohmann objects iterate in key order already; sorting states the invariant find() needs.
    std::sort(f.tensors_.begin(), f.tensors_.end(),
              [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
    return f;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
    auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                               [](const TensorView& t, std::string_view n) { return t.name < n; });
    if (it == tensors_.end() || it->name != name) return nullptr;
    return &*it;
}

} // namespace sala
