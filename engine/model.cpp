#include "model.h"

#include "context_file.h"
#include "file_util.h"

namespace sala {

Result<std::shared_ptr<const Model>> loadModel(const std::filesystem::path& dir) {
    auto files = openModelFolder(dir);
    if (!files) return files.error();
    auto model = std::make_shared<Model>();
    model->dir = dir;
    model->config = std::move(files->config);
    model->store = std::move(files->store);
    model->weights = std::move(files->weights);
    model->fingerprint = model->store.fingerprint();
    return std::shared_ptr<const Model>(std::move(model));
}

Result<std::shared_ptr<const Model>> configOnlyModel(const std::filesystem::path& configFile,
                                                     uint64_t seed) {
    auto text = readTextFile(configFile);
    if (!text) return text.error();
    auto config = parseModelConfig(*text, configFile.string());
    if (!config) return config.error();
    auto model = std::make_shared<Model>();
    model->dir = configFile.parent_path();
    model->config = std::move(config).value();
    model->fingerprint = checksum64(text->data(), text->size(), seed);
    return std::shared_ptr<const Model>(std::move(model));
}

} // namespace sala
