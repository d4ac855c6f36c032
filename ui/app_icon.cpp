#include "app_icon.h"

namespace folio {

QIcon appIcon() {
    return QIcon::fromTheme(QStringLiteral("folio"), QIcon(QStringLiteral(":/icons/folio.svg")));
}

} // namespace folio
