# Warning flags shared by every target (docs: ../shared/DESIGN.md, C style).
set(SM_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wno-unused-parameter)
if(SM_WERROR)
  list(APPEND SM_WARNINGS -Werror)
endif()
