// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding and decoding kallsyms in a kernel image (see kallsyms.h).
 *
 * Format facts (from the kernel's scripts/kallsyms.c and kernel/kallsyms.c,
 * described here in our own words): every table starts at an 8-byte aligned
 * label.  kallsyms_names holds one entry per symbol: a length byte (when
 * its top bit is set, a second byte carries bits 7-14 of the length) and
 * that many token numbers; each token number expands to the string at
 * kallsyms_token_table + kallsyms_token_index[number].  The first character
 * of an expanded entry is the nm type letter.  kallsyms_markers[k] is the
 * offset in kallsyms_names of entry 256*k.  kallsyms_num_syms is a 32-bit
 * count.  kallsyms_offsets holds a signed 32-bit value per symbol: with
 * absolute per-CPU symbols, a non-negative value is the address itself and
 * a negative one means relative_base - 1 - value; otherwise the address is
 * relative_base + (u32)value.  kallsyms_seqs_of_names, when present, holds
 * 3 bytes per symbol.
 */
#include "os/linux/kallsyms.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MARKERS ((KALLSYMS_MAX_SYMS + 255) / 256)
/* Bytes of one names entry at most: 2 length bytes + one byte per token. */
#define MAX_ENTRY (2 + KALLSYMS_NAME_MAX)

/*
 * Search work allowed for one decode: a real kernel needs a few million
 * steps; a forged image full of near-miss tables would otherwise cost
 * billions (every candidate token table restarts the marker search).
 */
#define WORK_LIMIT (64ull << 20)
/* Decoded name bytes at most (a 6.1 kernel has about 2 MiB). */
#define MAX_NAME_BYTES (64u << 20)

struct img {
	const uint8_t *p;
	size_t len;
	uint64_t va;
	uint64_t *work;		/* steps spent so far */
};

/* Count n steps of search; false once the budget is gone (everything then stops). */
static bool spend(const struct img *im, uint64_t n)
{
	*im->work += n;
	return *im->work <= WORK_LIMIT;
}

static bool get16(const struct img *im, size_t off, uint16_t *v)
{
	if (off > im->len || im->len - off < 2)
		return false;
	memcpy(v, im->p + off, 2);
	return true;
}

static bool get32(const struct img *im, size_t off, uint32_t *v)
{
	if (off > im->len || im->len - off < 4)
		return false;
	memcpy(v, im->p + off, 4);
	return true;
}

static bool get64(const struct img *im, size_t off, uint64_t *v)
{
	if (off > im->len || im->len - off < 8)
		return false;
	memcpy(v, im->p + off, 8);
	return true;
}

static bool get_marker(const struct img *im, size_t off, unsigned width, uint64_t *v)
{
	uint32_t v32;

	if (width == 8)
		return get64(im, off, v);
	if (!get32(im, off, &v32))
		return false;
	*v = v32;
	return true;
}

/* Whether image offset off is 8-byte aligned as a virtual address. */
static bool aligned8(const struct img *im, size_t off)
{
	return ((im->va + off) & 7) == 0;
}

static size_t align8_down(const struct img *im, size_t off)
{
	return off - (size_t)((im->va + off) & 7);
}

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static bool printable(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* ---- token table and index ---------------------------------------------- */

struct tokens {
	size_t table, index;
	uint16_t idx[256];
	uint16_t tlen[256];	/* length of each token */
};

/* The token table at T, indexed by t->idx, ending (with padding) at P. */
static bool token_table_at(const struct img *im, size_t T, size_t P, struct tokens *t)
{
	for (unsigned i = 0; i < 256; i++) {
		size_t s = T + t->idx[i], e;

		if (i < 255) {
			e = T + t->idx[i + 1] - 1;	/* the NUL ending token i */
		} else {
			for (e = s; e < P && im->p[e]; e++)
				;
			if (e >= P)
				return false;
			/* what follows the last token up to the index is alignment padding */
			if (P - (e + 1) >= 8)
				return false;
			for (size_t k = e + 1; k < P; k++)
				if (im->p[k])
					return false;
		}
		if (e <= s || e - s > KALLSYMS_MAX_TOKEN || im->p[e])
			return false;
		for (size_t k = s; k < e; k++)
			if (!printable(im->p[k]))
				return false;
		t->tlen[i] = (uint16_t)(e - s);
	}
	t->table = T;
	t->index = P;
	return true;
}

/* A token index at P (and its table just before it). */
static bool tokens_at(const struct img *im, size_t P, struct tokens *t)
{
	size_t span;

	if (im->len - P < 512)
		return false;
	for (unsigned i = 0; i < 256; i++) {
		memcpy(&t->idx[i], im->p + P + 2 * i, 2);
		if (i == 0 ? t->idx[0] != 0
			   : t->idx[i] <= t->idx[i - 1] ||
			     t->idx[i] - t->idx[i - 1] > KALLSYMS_MAX_TOKEN + 1)
			return false;
	}
	span = (size_t)t->idx[255] + 2;	/* the last token is at least 1 byte + NUL */
	if (P < span || !spend(im, span))
		return false;
	for (size_t T = align8_down(im, P - span);; T -= 8) {
		if (T + span + KALLSYMS_MAX_TOKEN + 8 < P)
			break;
		if (token_table_at(im, T, P, t))
			return true;
		if (T < 8)
			break;
	}
	return false;
}

/* ---- names and markers -------------------------------------------------- */

struct layout {
	struct tokens tok;
	size_t names, markers, nmarkers, num_syms, seqs;
	uint32_t n;
	unsigned width;
	bool have_seqs;
	size_t name_bytes;	/* sum of decoded name lengths + NULs */
};

/* Entry length at *pos (1 or 2 bytes); advances *pos past the length. */
static bool entry_len(const struct img *im, size_t *pos, size_t end, size_t *len)
{
	uint8_t b;

	if (*pos >= end)
		return false;
	b = im->p[(*pos)++];
	*len = b;
	if (b & 0x80) {
		if (*pos >= end)
			return false;
		*len = (b & 0x7fu) | (size_t)im->p[(*pos)++] << 7;
	}
	return *len > 0 && *len <= KALLSYMS_NAME_MAX;
}

/*
 * Skip `count` entries from pos without expanding them; false when one runs
 * past end.
 */
static bool skip_entries(const struct img *im, size_t *pos, size_t end, size_t count)
{
	if (!spend(im, count))
		return false;
	for (size_t i = 0; i < count; i++) {
		size_t l;

		if (!entry_len(im, pos, end, &l) || l > end - *pos)
			return false;
		*pos += l;
	}
	return true;
}

/*
 * Walk all n entries from the names start, checking every marker, every
 * token expansion (length cap, a type letter first) and that the stream
 * ends in the padding before the markers.
 */
static bool names_verify(const struct img *im, struct layout *L, struct vmet_err *err)
{
	size_t pos = L->names, end = L->markers, total = 0;

	if (!spend(im, L->n))
		return false;
	for (size_t i = 0; i < L->n; i++) {
		size_t l, chars = 0;

		if (i % 256 == 0) {
			uint64_t mk;

			if (!get_marker(im, L->markers + (i / 256) * L->width, L->width, &mk) ||
			    mk != pos - L->names) {
				vmet_errf(err, VMET_ENOTFOUND,
					  "kallsyms: names entry %zu at +%zu does not match "
					  "marker %zu", i, pos - L->names, i / 256);
				return false;
			}
		}
		if (!entry_len(im, &pos, end, &l) || l > end - pos) {
			vmet_errf(err, VMET_ENOTFOUND,
				  "kallsyms: names entry %zu at image offset %zu has a bad length",
				  i, pos);
			return false;
		}
		for (size_t k = 0; k < l; k++)
			chars += L->tok.tlen[im->p[pos + k]];
		if (chars < 2 || chars > KALLSYMS_NAME_MAX ||
		    !((im->p[L->tok.table + L->tok.idx[im->p[pos]]] | 0x20) >= 'a' &&
		      (im->p[L->tok.table + L->tok.idx[im->p[pos]]] | 0x20) <= 'z')) {
			vmet_errf(err, VMET_ENOTFOUND,
				  "kallsyms: names entry %zu expands to %zu characters or lacks "
				  "a type letter", i, chars);
			return false;
		}
		total += chars;	/* the type letter's place holds the NUL */
		pos += l;
		if (total > MAX_NAME_BYTES) {
			vmet_errf(err, VMET_ENOTFOUND,
				  "kallsyms: names decode to more than %u bytes", MAX_NAME_BYTES);
			return false;
		}
	}
	if (pos > end || end - pos >= 8) {
		vmet_errf(err, VMET_ENOTFOUND,
			  "kallsyms: names end at image offset %zu, not just before the "
			  "markers at %zu", pos, end);
		return false;
	}
	for (; pos < end; pos++)
		if (im->p[pos]) {
			vmet_errf(err, VMET_ENOTFOUND,
				  "kallsyms: non-zero padding after the names at %zu", pos);
			return false;
		}
	L->name_bytes = total;
	return true;
}

/* Markers of m entries starting at M: 0 first, then strictly increasing. */
static bool markers_ok(const struct img *im, size_t M, size_t m, unsigned width)
{
	uint64_t prev = 0, v;

	if (!spend(im, 1) || !get_marker(im, M, width, &v) || v != 0 || !spend(im, m))
		return false;
	for (size_t k = 1; k < m; k++) {
		if (!get_marker(im, M + k * width, width, &v) || v <= prev ||
		    v - prev > 256u * MAX_ENTRY)
			return false;
		prev = v;
	}
	return true;
}

/*
 * With markers found at L->markers (L->nmarkers of them), find the names
 * start: 8-aligned, just after a 32-bit count consistent with the markers
 * (and equal to want_n when that is known), such that the entries after
 * the last marker end right before the markers.
 */
static bool find_names(const struct img *im, struct layout *L, uint32_t want_n,
		       struct vmet_err *err)
{
	uint64_t last;
	size_t m = L->nmarkers, hi, lo;

	if (!get_marker(im, L->markers + (m - 1) * L->width, L->width, &last) ||
	    last >= L->markers)
		return false;
	hi = L->markers - (size_t)last;	/* names start at most here */
	lo = hi > 256u * MAX_ENTRY + 16 ? hi - 256u * MAX_ENTRY - 16 : 8;
	for (size_t X = align8_down(im, hi); X >= lo && X >= 8; X -= 8) {
		uint32_t n, pad;
		size_t pos;

		if (!spend(im, 1))
			return false;
		if (!get32(im, X - 8, &n) || !get32(im, X - 4, &pad) || pad ||
		    n == 0 || n > KALLSYMS_MAX_SYMS || (n + 255) / 256 != m ||
		    (want_n && n != want_n))
			continue;
		pos = X + (size_t)last;
		if (!skip_entries(im, &pos, L->markers, n - 256 * (m - 1)) ||
		    L->markers - pos >= 8)
			continue;
		L->names = X;
		L->num_syms = X - 8;
		L->n = n;
		if (names_verify(im, L, err))
			return true;
	}
	return false;
}

/*
 * The markers end where the token table begins (classic layout), or the
 * 3-bytes-per-symbol seqs table sits in between; for each possible count
 * the position of everything is fixed, so try them all.
 */
static bool find_markers(const struct img *im, struct layout *L, struct vmet_err *err)
{
	size_t T = L->tok.table;

	for (unsigned width = 4; width <= 8; width += 4) {
		L->width = width;
		/* classic: markers, token table */
		for (size_t m = 1; m <= MAX_MARKERS && round8(width * m) <= T && spend(im, 0); m++) {
			L->markers = T - round8(width * m);
			L->nmarkers = m;
			L->have_seqs = false;
			if (markers_ok(im, L->markers, m, width) && find_names(im, L, 0, err))
				return true;
		}
		/* markers, seqs_of_names (3 bytes a symbol), token table */
		for (uint32_t n = 1; n <= KALLSYMS_MAX_SYMS && spend(im, 0); n++) {
			size_t m = (n + 255) / 256, S;

			if (round8(3 * (size_t)n) + round8(width * m) > T)
				break;
			S = T - round8(3 * (size_t)n);
			L->markers = S - round8(width * m);
			L->nmarkers = m;
			if (!markers_ok(im, L->markers, m, width))
				continue;
			L->have_seqs = true;
			L->seqs = S;
			if (find_names(im, L, n, err))
				return true;
		}
	}
	return false;
}

/* ---- addresses ---------------------------------------------------------- */

/* FNV-1a: names are short and the table is built once. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Index every name; namesakes land along one probe sequence in table order. */
static int hash_names(struct kallsyms *ks, struct vmet_err *err)
{
	size_t size = 1;

	while (size < 2 * ks->n)
		size <<= 1;
	ks->hash = calloc(size, sizeof(*ks->hash));
	if (!ks->hash)
		return vmet_errf(err, VMET_ENOMEM, "kallsyms: out of memory for the name index");
	ks->hash_mask = size - 1;
	for (size_t i = 0; i < ks->n; i++) {
		size_t h = name_hash(ks->names + ks->sym[i].name) & ks->hash_mask;

		while (ks->hash[h])
			h = (h + 1) & ks->hash_mask;
		ks->hash[h] = (uint32_t)i + 1;
	}
	return 0;
}

/*
 * Read the address offsets at O and the relative base at B, compute every
 * address, and check they are sorted (scripts/kallsyms sorts by address):
 * the check that says these are the offsets and not neighbouring bytes.
 */
static bool addresses_at(const struct img *im, const struct layout *L, size_t O, size_t B,
			 struct kallsyms *ks, struct vmet_err *err)
{
	uint64_t base, prev = 0;
	bool abs_percpu = false;

	if (!aligned8(im, O) || !get64(im, B, &base) || O > im->len ||
	    (im->len - O) / 4 < L->n)
		return false;
	/* A kernel-half address (x86-64 or i386), and when the image's address is
	 * known, near it: the base is _text, the image's own start. */
	if (base < 0xc0000000ull || (base > 0xffffffffull && base < 0xffff800000000000ull))
		return false;
	if (im->va && (base + (1ull << 30) < im->va || base > im->va + im->len))
		return false;
	for (size_t i = 0; i < L->n; i++) {
		int32_t v;

		memcpy(&v, im->p + O + 4 * i, 4);
		if (v < 0)
			abs_percpu = true;
	}
	for (size_t i = 0; i < L->n; i++) {
		int32_t v;
		uint64_t a;
		bool absolute = false;

		memcpy(&v, im->p + O + 4 * i, 4);
		if (!abs_percpu) {
			a = base + (uint32_t)v;
		} else if (v >= 0) {
			a = (uint64_t)v;
			absolute = true;
		} else {
			a = base - 1 - (uint64_t)(int64_t)v;
		}
		if (a < prev) {
			vmet_errf(err, VMET_ENOTFOUND,
				  "kallsyms: address of symbol %zu (0x%" PRIx64 ") is below the "
				  "previous one (0x%" PRIx64 "): offsets at image offset %zu are "
				  "not kallsyms_offsets", i, a, prev, O);
			return false;
		}
		prev = a;
		ks->sym[i].addr = a;
		ks->sym[i].absolute = absolute;
	}
	ks->relative_base = base;
	ks->where.offsets = O;
	ks->where.relative_base = B;
	ks->where.absolute_percpu = abs_percpu;
	return true;
}

static int decode_all(const struct img *im, const struct layout *L, struct kallsyms *ks,
		      struct vmet_err *err)
{
	size_t pos = L->names, out = 0;
	size_t O, B;

	ks->n = L->n;
	ks->sym = calloc(L->n, sizeof(*ks->sym));
	ks->names = malloc(L->name_bytes);
	if (!ks->sym || !ks->names)
		return vmet_errf(err, VMET_ENOMEM, "kallsyms: out of memory for %" PRIu32
				 " symbols", L->n);
	for (size_t i = 0; i < L->n; i++) {
		size_t l;
		bool first = true;

		/* names_verify() checked every bound on this walk */
		entry_len(im, &pos, L->markers, &l);
		ks->sym[i].name = (uint32_t)out;
		for (size_t k = 0; k < l; k++) {
			const uint8_t *tok = im->p + L->tok.table + L->tok.idx[im->p[pos + k]];
			size_t tl = L->tok.tlen[im->p[pos + k]];

			if (first) {
				ks->sym[i].type = (char)tok[0];
				tok++;
				tl--;
				first = false;
			}
			memcpy(ks->names + out, tok, tl);
			out += tl;
		}
		ks->names[out++] = '\0';
		pos += l;
	}
	ks->names_len = out;

	/* classic: offsets, relative base, count; newer: offsets after the token index */
	B = L->num_syms - 8;
	O = L->num_syms >= 8 + round8(4 * (size_t)L->n) ? B - round8(4 * (size_t)L->n) : 0;
	if (!(L->num_syms >= 8 + round8(4 * (size_t)L->n) && addresses_at(im, L, O, B, ks, err))) {
		O = round8(L->tok.index + 512);
		B = O + round8(4 * (size_t)L->n);
		if (!addresses_at(im, L, O, B, ks, err))
			return err && err->code ? err->code :
			       vmet_errf(err, VMET_ENOTFOUND,
					 "kallsyms: names found at image offset %zu but no "
					 "consistent kallsyms_offsets/relative_base next to them",
					 L->names);
	}
	return hash_names(ks, err);
}

int kallsyms_decode(const uint8_t *img, size_t len, uint64_t img_va,
		    struct kallsyms **out, struct vmet_err *err)
{
	uint64_t work = 0;
	struct img im = { img, len, img_va, &work };
	struct layout *L;
	struct kallsyms *ks;
	unsigned tried = 0;
	int rc;

	*out = NULL;
	L = calloc(1, sizeof(*L));
	if (!L)
		return vmet_errf(err, VMET_ENOMEM, "kallsyms: out of memory");
	vmet_err_clear(err);
	/*
	 * Scan up from the start: the tables sit in .rodata, right after the
	 * text, while a copy may run far past the image's end.
	 */
	for (size_t P = (size_t)((8 - (img_va & 7)) & 7); len >= 512 && P <= len - 512; P += 8) {
		uint16_t a, b;

		if (!spend(&im, 1))
			break;
		/* cheap filter first: index[0] = 0, index[1] = length of token 0 + 1 */
		if (get16(&im, P, &a) && !a && get16(&im, P + 2, &b) && b >= 2 &&
		    b <= KALLSYMS_MAX_TOKEN + 1 && tokens_at(&im, P, &L->tok)) {
			tried++;
			if (find_markers(&im, L, err))
				goto found;
		}
	}
	free(L);
	if (work > WORK_LIMIT)
		return vmet_errf(err, VMET_ELIMIT,
				 "kallsyms: search stopped after %llu steps with %u candidate "
				 "token table(s) and no consistent tables (forged data?)",
				 WORK_LIMIT, tried);
	if (!tried)
		return vmet_errf(err, VMET_ENOTFOUND,
				 "kallsyms: no token table in the %zu-byte image (a kernel "
				 "without CONFIG_KALLSYMS, or not a kernel image)", len);
	if (err && err->code)
		return vmet_err_prefix(err, VMET_ENOTFOUND,
				       "kallsyms: %u token table(s) in the %zu-byte image, none "
				       "with consistent names; last problem", tried, len);
	return vmet_errf(err, VMET_ENOTFOUND,
			 "kallsyms: %u token table(s) in the %zu-byte image, none with "
			 "markers and names around them", tried, len);
found:
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		free(L);
		return vmet_errf(err, VMET_ENOMEM, "kallsyms: out of memory");
	}
	vmet_err_clear(err);
	rc = decode_all(&im, L, ks, err);
	if (rc) {
		kallsyms_free(ks);
		free(L);
		return rc;
	}
	ks->where.num_syms = L->num_syms;
	ks->where.names = L->names;
	ks->where.markers = L->markers;
	ks->where.seqs = L->seqs;
	ks->where.have_seqs = L->have_seqs;
	ks->where.token_table = L->tok.table;
	ks->where.token_index = L->tok.index;
	ks->where.marker_width = L->width;
	free(L);
	*out = ks;
	return 0;
}

void kallsyms_free(struct kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->sym);
	free(ks->names);
	free(ks->hash);
	free(ks);
}

size_t kallsyms_find(const struct kallsyms *ks, const char *name,
		     const struct kallsyms_sym **out, size_t max)
{
	size_t n = 0;

	if (!ks->hash)
		return 0;
	/* The table is at most half full, so every probe sequence reaches an empty slot. */
	for (size_t h = name_hash(name) & ks->hash_mask; ks->hash[h];
	     h = (h + 1) & ks->hash_mask) {
		const struct kallsyms_sym *s = &ks->sym[ks->hash[h] - 1];

		if (strcmp(ks->names + s->name, name))
			continue;
		if (n < max)
			out[n] = s;
		n++;
	}
	return n;
}

const struct kallsyms_sym *kallsyms_lookup(const struct kallsyms *ks, const char *name)
{
	const struct kallsyms_sym *s[64];
	size_t n = kallsyms_find(ks, name, s, 64);

	/* namesakes come in table order: prefer the first global one */
	for (size_t i = 0; i < n && i < 64; i++)
		if (s[i]->type >= 'A' && s[i]->type <= 'Z')
			return s[i];
	return n ? s[0] : NULL;
}
