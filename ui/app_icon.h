#pragma once
// Folio's icon, for its windows and the desktop's task switcher.

#include <QIcon>

namespace folio {

// The icon theme's "folio" (what an install puts in hicolor), else the SVG built into the
// program, so a build folder or a prefix the theme does not search shows the icon too.
QIcon appIcon();

} // namespace folio
