#include "zip_archive.h"

#include "importer.h"

#include <QFile>

#include <zip.h>

namespace folio {

using sala::ErrorCode;

void ZipArchive::Closer::operator()(zip* archive) const {
    zip_discard(archive);
}

namespace {

QString zipErrorText(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    QString text = QString::fromUtf8(zip_error_strerror(&error));
    zip_error_fini(&error);
    return text;
}

bool unsafeName(const QString& name) {
    if (name.startsWith(u'/') || name.startsWith(u'\\')) return true;
    if (name.size() > 1 && name[1] == u':') return true; // a Windows drive
    const QStringList parts = QString(name).replace(u'\\', u'/').split(u'/');
    return parts.contains(QStringLiteral(".."));
}

} // namespace

sala::Result<ZipArchive> ZipArchive::open(const QString& path, const ImportLimits& limits) {
    int code = 0;
    zip* raw = zip_open(QFile::encodeName(path).constData(), ZIP_RDONLY, &code);
    if (!raw)
        return importError(
            ErrorCode::Format, path,
            QStringLiteral("not a readable zip archive (%1)").arg(zipErrorText(code)));
    ZipArchive archive;
    archive.archive_.reset(raw);
    archive.path_ = path;
    archive.limits_ = limits;
    const zip_int64_t count = zip_get_num_entries(raw, 0);
    if (count > limits.maxArchiveEntries)
        return importError(ErrorCode::Unsupported, path,
                           QStringLiteral("the archive has %1 entries, more than the limit of %2")
                               .arg(count)
                               .arg(limits.maxArchiveEntries));
    for (zip_int64_t i = 0; i < count; ++i) {
        const char* name = zip_get_name(raw, zip_uint64_t(i), ZIP_FL_ENC_GUESS);
        archive.names_ << (name ? QString::fromUtf8(name) : QString());
    }
    SALA_TRY(archive.checkNames());
    return archive;
}

sala::Status ZipArchive::checkNames() const {
    for (const QString& name : names_)
        if (unsafeName(name))
            return importError(ErrorCode::Format, path_,
                               QStringLiteral("unsafe entry name '%1' in the archive").arg(name));
    return sala::Status::success();
}

sala::Result<QByteArray> ZipArchive::read(const QString& name) {
    const zip_int64_t index = zip_name_locate(archive_.get(), name.toUtf8().constData(), 0);
    if (index < 0)
        return importError(ErrorCode::Format, path_,
                           QStringLiteral("the archive has no entry '%1'").arg(name));
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive_.get(), zip_uint64_t(index), 0, &stat) != 0)
        return importError(ErrorCode::Format, path_,
                           QStringLiteral("cannot read entry '%1'").arg(name));
    const qint64 budget =
        qMin(limits_.maxArchiveEntryBytes, limits_.maxArchiveTotalBytes - bytesRead_);
    const auto tooBig = [&] {
        return importError(ErrorCode::Format, path_,
                           QStringLiteral("entry '%1' unpacks to more than %2 bytes (zip bomb?)")
                               .arg(name)
                               .arg(budget));
    };
    if ((stat.valid & ZIP_STAT_SIZE) && qint64(stat.size) > budget) return tooBig();
    zip_file_t* file = zip_fopen_index(archive_.get(), zip_uint64_t(index), 0);
    if (!file)
        return importError(ErrorCode::Format, path_,
                           QStringLiteral("cannot open entry '%1': %2")
                               .arg(name, QString::fromUtf8(zip_strerror(archive_.get()))));
    QByteArray data;
    char buffer[65536];
    zip_int64_t n = 0;
    // The declared size may lie, so the limit is enforced on the bytes actually produced.
    while ((n = zip_fread(file, buffer, sizeof buffer)) > 0) {
        if (data.size() + n > budget) {
            zip_fclose(file);
            return tooBig();
        }
        data.append(buffer, n);
    }
    const QString error = QString::fromUtf8(zip_file_strerror(file));
    zip_fclose(file);
    if (n < 0)
        return importError(ErrorCode::Format, path_,
                           QStringLiteral("entry '%1' is corrupt: %2").arg(name, error));
    bytesRead_ += data.size();
    return data;
}

} // namespace folio
