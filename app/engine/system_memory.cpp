#include "system_memory.h"

#include <QFile>
#include <QList>

#include <unistd.h>

namespace folio {

quint64 processResidentBytes() {
    QFile file(QStringLiteral("/proc/self/statm"));
    if (!file.open(QIODevice::ReadOnly)) return 0;
    // Fields: size resident shared text lib data dt, in pages.
    const QList<QByteArray> fields = file.readAll().simplified().split(' ');
    if (fields.size() < 2) return 0;
    const long page = sysconf(_SC_PAGESIZE);
    return fields[1].toULongLong() * quint64(page > 0 ? page : 4096);
}

quint64 availableSystemMemory() {
    QFile file(QStringLiteral("/proc/meminfo"));
    if (!file.open(QIODevice::ReadOnly)) return 0;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().simplified();
        if (!line.startsWith("MemAvailable:")) continue;
        const QList<QByteArray> parts = line.split(' ');
        return parts.size() >= 2 ? parts[1].toULongLong() * 1024 : 0;
    }
    return 0;
}

} // namespace folio
