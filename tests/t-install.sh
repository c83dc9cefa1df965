#!/bin/sh
# t-install.sh - the installed library interface (issue 12): `make install DESTDIR=... PREFIX=/usr/local`,
# then the README's example program built through pkg-config against the staged tree (no build-tree paths),
# run, and its numbers checked; every installed header compiles on its own and is in the umbrella <smx/smx.h>;
# internal headers are not installed; `make uninstall` removes everything it installed.
. "$(dirname "$0")/lib.sh"
D=$T/stage
MK="make --no-print-directory -s BUILD=${SMX_BUILD:-build} SANITIZE=${SMX_SANITIZE:-0}"
SAN=""; [ "${SMX_SANITIZE:-0}" = 1 ] && SAN="-fsanitize=address,undefined"

$MK install DESTDIR="$D" PREFIX=/usr/local >"$T/log" 2>&1; ok $? "make install DESTDIR PREFIX=/usr/local"
test -f "$D/usr/local/lib/libsmx.a" && test -f "$D/usr/local/lib/pkgconfig/smx.pc" && test -x "$D/usr/local/bin/smx"
ok $? "library, smx.pc and programs under DESTDIR/PREFIX"
test -f "$D/usr/local/include/smx/smx.h" && test -f "$D/usr/local/include/smx/format.h"
ok $? "headers under include/smx"
test ! -e "$D/usr/local/include/smx/cli.h"; ok $? "internal cli.h not installed"
test ! -e "$D/usr/local/include/format.h"; ok $? "no generic header names on the include path"

export PKG_CONFIG_PATH="$D/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
pkg-config --cflags smx | grep -q -- "-I$D/usr/local/include\$\| -I$D/usr/local/include \|^-I$D/usr/local/include *\$"
ok $? "Cflags -I PREFIX/include: $(pkg-config --cflags smx)"
libs=$(pkg-config --static --libs smx)
echo "$libs" | grep -q -- -lgslcblas; [ $? -ne 0 ]; ok $? "one CBLAS: no -lgslcblas in $libs"
echo "$libs" | grep -q -- -lopenblas; ok $? "OpenBLAS in the static link line"

cc -std=c11 -Wall -Wextra -Werror $SAN $(pkg-config --cflags smx) -o "$T/example" tests/example-smx.c \
   $(pkg-config --static --libs smx) >"$T/cc.log" 2>&1; rc=$?; [ $rc -ne 0 ] && cat "$T/cc.log"
ok $rc "example builds through pkg-config --static against the staged install"
"$T/example" >"$T/ex.out" 2>&1; ok $? "example runs"
grep -q '^round(2.385, bf16) = 2.390625$' "$T/ex.out"; ok $? "bf16 rounding of 2.385 is 2.390625"
# fp32 sequential threshold is exactly p ln 2 = 24 ln 2 (threshold.h)
awk '/collapse threshold fp32/ { d = $5 - 24 * log(2); exit !(d < 1e-12 && d > -1e-12) }' "$T/ex.out"
ok $? "collapse threshold fp32 = 24 ln 2"
# the bf16 softmax is within a few bf16 ulps of the reference and the reference sums to 1 within 4 u
awk -F'[ =]+' '/^softmax_bf16/ { s += $4; e = $2 - $4; if (e < 0) e = -e; if (e > 4 * 2^-8 * $4) bad = 1 }
     END { exit !(bad == 0 && s > 1 - 4 * 2^-8 && s < 1 + 4 * 2^-8) }' "$T/ex.out"
ok $? "bf16 softmax within 4u of the MPFR reference"

# every module: a program that references every function libsmx.a defines links with --static libs alone
nm -g --defined-only "$D/usr/local/lib/libsmx.a" 2>/dev/null | awk '$2 == "T" { print $3 }' | sort -u >"$T/syms"
nsyms=$(wc -l <"$T/syms")
{ sed 's/.*/extern void &(void);/' "$T/syms"; echo 'void (*const smx_all[])(void) = {'; sed 's/.*/    &,/' "$T/syms"
  echo '};'; echo 'int main(void) { return smx_all[0] == 0; }'; } >"$T/all.c"
cc -std=c11 -w $SAN -o "$T/all" "$T/all.c" $(pkg-config --static --libs smx) >"$T/all.log" 2>&1; rc=$?
[ $rc -ne 0 ] && head -5 "$T/all.log"
[ "$nsyms" -gt 100 ] && [ $rc -eq 0 ] && "$T/all"; ok $? "a program using all $nsyms functions of libsmx.a links with pkg-config --static --libs smx"

for h in "$D"/usr/local/include/smx/*.h; do
  b=$(basename "$h")
  printf '#include <smx/%s>\nint main(void) { return 0; }\n' "$b" >"$T/h.c"
  cc -std=c11 -fsyntax-only $(pkg-config --cflags smx) "$T/h.c" 2>"$T/h.err"; ok $? "<smx/$b> compiles on its own"
  [ "$b" = smx.h ] || { grep -q "#include \"$b\"" "$D/usr/local/include/smx/smx.h"; ok $? "umbrella smx.h includes $b"; }
done

$MK uninstall DESTDIR="$D" PREFIX=/usr/local >>"$T/log" 2>&1; ok $? "make uninstall"
left=$(find "$D" -type f | wc -l); [ "$left" -eq 0 ]; ok $? "uninstall leaves no files ($left left)"
tap_done
