#include "model.h"

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

} // namespace sala
