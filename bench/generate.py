"""Generate realistic, deterministic Chinese lead sheets (UTF-8 CSV) for the benchmarks."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

HEADER = ["姓名", "手机号码", "身份证号", "城市", "贷款金额(元)", "渠道来源", "公积金", "社保"]
HEADER += ["房产", "车产", "月收入", "备注"]
# sheet.FIELDS names of the columns above, for feeding rows to importer.draft_from_row directly
FIELDS = ("name", "phone", "id_number", "city", "amount_wanted", "source", "provident_fund")
FIELDS += ("social_security", "house", "car", "monthly_income", "remark")

# the ~100 most common surnames, weighted by their approximate share of the population (%)
_SURNAMES = re.findall(
    r"(\D+?)([\d.]+)\s*",
    "王7.1 李7.0 张6.7 刘5.4 陈4.5 杨3.1 黄2.2 赵2.0 吴2.0 周1.9 徐1.5 孙1.5 马1.3 朱1.3 胡1.2 "
    "郭1.2 何1.1 高1.0 林1.0 罗0.9 郑0.8 梁0.8 谢0.7 宋0.6 唐0.6 许0.6 韩0.5 冯0.5 邓0.5 曹0.5 "
    "彭0.5 曾0.5 肖0.5 田0.4 董0.4 袁0.4 潘0.4 于0.4 蒋0.4 蔡0.4 余0.4 杜0.4 叶0.4 程0.3 苏0.3 "
    "魏0.3 吕0.3 丁0.3 任0.3 沈0.3 姚0.3 卢0.3 姜0.3 崔0.3 钟0.3 谭0.3 陆0.3 汪0.3 范0.3 金0.3 "
    "石0.3 廖0.2 贾0.2 夏0.2 韦0.2 付0.2 方0.2 白0.2 邹0.2 孟0.2 熊0.2 秦0.2 邱0.2 江0.2 尹0.2 "
    "薛0.2 闫0.2 段0.2 雷0.2 侯0.2 龙0.2 史0.2 陶0.2 黎0.2 贺0.2 顾0.2 毛0.2 郝0.2 龚0.2 邵0.2 "
    "万0.2 钱0.2 严0.2 覃0.1 武0.1 戴0.1 莫0.1 孔0.1 向0.1 汤0.1 欧阳0.05 司马0.01 诸葛0.01",
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国红玉兰秀梅辉鹏飞斌宇浩凯俊峰波海燕"
    "婷雪琳晨阳亮成龙文博志刚思雨欣怡子涵梓轩一诺佳琪嘉欣晓东金凤春秋冬梅海洋永健立新家豪"
)
# (mobile prefix, weight): China Mobile, Unicom, Telecom and the MVNO 170s
_PREFIXES = [(p, 5) for p in range(130, 140)] + [(p, 4) for p in (150, 151, 152, 153, 155)]
_PREFIXES += [(p, 4) for p in (156, 157, 158, 159)] + [(p, 1) for p in (145, 147, 166)]
_PREFIXES += [(p, 1) for p in (170, 171, 173, 175, 176, 177, 178)]
_PREFIXES += [(p, 5) for p in range(180, 190)] + [(p, 2) for p in (191, 198, 199)]
# city, weight, resident-ID region codes of some of its districts
_CITIES = [
    (city, int(weight), codes.split(","))
    for city, weight, codes in re.findall(
        r"(\D+)(\d+):([\d,]+)\s*",
        "北京9:110101,110105,110108 上海9:310101,310104,310115 广州7:440103,440106 "
        "深圳8:440303,440304,440305 成都6:510104,510107 重庆6:500103,500106 杭州5:330102,330106 "
        "武汉5:420102,420106 西安4:610103,610113 南京4:320102,320106 天津4:120101,120104 "
        "苏州4:320505,320508 长沙3:430102,430104 郑州3:410102,410105 东莞3:441900 "
        "青岛3:370202,370212 沈阳2:210102 宁波2:330203 昆明2:530102 合肥2:340102,340104 "
        "佛山2:440604 福州2:350102 厦门2:350203 济南2:370102 大连1:210202 哈尔滨1:230102 "
        "南宁1:450102 石家庄1:130102 贵阳1:520102 南昌1:360102",
    )
]
_REGIONS = [code for _, _, codes in _CITIES for code in codes]
_SOURCES = ["信息流-抖音", "信息流-快手", "百度竞价", "微信朋友圈", "线下地推", "老客户转介绍"]
_SOURCES += ["合作机构", "短信营销", "购买名单", "官网表单"]
_REMARKS = ["急用钱", "有逾期记录", "下午联系", "不接电话发短信", "额度要求高", "已加微信"]
_REMARKS += ["做生意周转", "装修用", "有保单", "营业执照满2年", "征信花", "买车"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
_STYLE_WEIGHTS = (50, 10, 9, 7, 6, 5, 5, 3, 3, 2)  # see format_phone
_BIRTH_FIRST = dt.date(1962, 1, 1).toordinal()
_BIRTH_LAST = dt.date(2003, 12, 31).toordinal()


def _pick(pairs: Sequence[tuple[object, float]]) -> tuple[list[object], list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


class LeadFaker:
    """Cell values as brokers' sheets have them; every random choice comes from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._surnames = _pick([(name, float(share)) for name, share in _SURNAMES])
        self._prefixes = _pick(_PREFIXES)
        self._cities = _pick([(c, w) for c, w, _ in _CITIES])
        self._regions = {c: codes for c, _, codes in _CITIES}

    def choose(self, values: Sequence[str], weights: Sequence[float]) -> str:
        return self.rng.choices(values, weights)[0]

    def name(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.02:
            return ""  # bought lists often have no names
        surname = rng.choices(*self._surnames)[0]
        if roll < 0.05:
            return surname + rng.choice(("先生", "女士"))
        return surname + "".join(rng.choice(_GIVEN) for _ in range(1 if roll < 0.30 else 2))

    def mobile(self) -> int:
        prefix = self.rng.choices(*self._prefixes)[0]
        return prefix * 10**8 + self.rng.randrange(10**8)

    def style(self, other_than: int = -1) -> int:
        while (style := self.rng.choices(range(10), _STYLE_WEIGHTS)[0]) == other_than:
            pass
        return style

    def invalid_phone(self) -> str:
        digits, roll = str(self.mobile()), self.rng.random()
        if roll < 1 / 3:
            at = self.rng.randrange(3, 11)  # a typo: O for 0, l for 1
            return digits[:at] + self.rng.choice("OolIB") + digits[at + 1 :]
        if roll < 2 / 3:
            return digits[: self.rng.choice((6, 8, 10))]
        return ""

    def city(self) -> str:
        return "" if self.rng.random() < 0.05 else self.rng.choices(*self._cities)[0]

    def id_number(self, city: str) -> str:
        rng = self.rng
        if rng.random() >= 0.60:
            return ""
        local = city and rng.random() < 0.6
        region = rng.choice(self._regions[city] if local else _REGIONS)
        born = dt.date.fromordinal(rng.randint(_BIRTH_FIRST, _BIRTH_LAST)).strftime("%Y%m%d")
        first17 = f"{region}{born}{rng.randrange(1000):03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]
        return first17 + ("x" if check == "X" and rng.random() < 0.1 else check)

    def amount(self) -> str:
        rng, roll = self.rng, self.rng.random()
        wan = rng.choice((1, 2, 3, 5, 8, 10, 15, 20, 30, 50, 80, 100))
        if roll < 0.45:
            return f"{wan}万"
        if roll < 0.50:
            return rng.choice(("1.5万", "2.5万", "3.5万"))
        if roll < 0.80:
            return str(wan * 10000 if rng.random() < 0.7 else rng.randrange(1, 60) * 5000)
        if roll < 0.88:
            return f"{wan * 10000}元"
        return f"{wan}{rng.choice('wW')}" if roll < 0.92 else ""

    def income(self) -> str:
        rng, roll = self.rng, self.rng.random()
        if roll < 0.30:
            return ""
        if roll < 0.75:
            return str(rng.randrange(6, 60) * 500)
        if roll < 0.85:
            return f"{rng.choice(('1', '1.2', '1.5', '2', '3'))}万"
        return f"{rng.randrange(3, 30)}k" if roll < 0.90 else f"{rng.randrange(3, 30)}000元"

    def row(self, phone: str, name: str) -> list[str]:
        c = self.choose
        city = self.city()
        return [
            name,
            phone,
            self.id_number(city),
            city,
            self.amount(),
            "" if self.rng.random() < 0.03 else c(_SOURCES, (9, 7, 8, 6, 3, 4, 5, 3, 4, 6)),
            c(("有", "无", "", "是", "否"), (40, 35, 15, 5, 5)),
            c(("有", "无", "", "是", "否"), (45, 30, 15, 5, 5)),
            c(("有", "无", "按揭", "全款", ""), (15, 40, 15, 5, 25)),
            c(("有", "无", "按揭", "全款", ""), (15, 45, 10, 5, 25)),
            self.income(),
            "" if self.rng.random() < 0.75 else self.rng.choice(_REMARKS),
        ]


def format_phone(national: int, style: int) -> str:
    """The ways brokers write 13800138000."""
    d = str(national)
    spaced = f"{d[:3]} {d[3:7]} {d[7:]}"
    return (
        d,
        spaced,
        f"{d[:3]}-{d[3:7]}-{d[7:]}",
        f"+86 {spaced}",
        f"86{d}",
        f"+86{d}",
        d.translate(_FULL_WIDTH),
        f"0086 {d}",
        f" {d} ",
        f"{d[:3]}.{d[3:7]}.{d[7:]}",
    )[style]


def lead_rows(
    rows: int, seed: int = 1, invalid_rate: float = 0.03, duplicate_rate: float = 0.05
) -> Iterator[list[str]]:
    """Data rows (no header) with exactly round(rows*rate) invalid phones and duplicates."""
    fake = LeadFaker(seed)
    rng = fake.rng
    n_invalid, n_dup = round(rows * invalid_rate), round(rows * duplicate_rate)
    kinds = bytearray([0] * (rows - n_invalid - n_dup) + [1] * n_invalid + [2] * n_dup)
    rng.shuffle(kinds)
    if kinds and kinds[0] == 2:  # a duplicate needs an earlier original
        first_new = kinds.index(0)
        kinds[0], kinds[first_new] = 0, kinds[0]
    seen: set[int] = set()
    originals: list[tuple[int, int, str]] = []  # (number, style, name)
    for kind in kinds:
        if kind == 1:
            yield fake.row(fake.invalid_phone(), fake.name())
        elif kind == 2:
            number, style, name = originals[rng.randrange(len(originals))]
            yield fake.row(format_phone(number, fake.style(other_than=style)), name)
        else:
            while (number := fake.mobile()) in seen:
                pass
            seen.add(number)
            style, name = fake.style(), fake.name()
            if duplicate_rate:
                originals.append((number, style, name))
            yield fake.row(format_phone(number, style), name)


def write_sheet(
    path: Path, rows: int, seed: int = 1, invalid_rate: float = 0.03, duplicate_rate: float = 0.05
) -> int:
    """Write the CSV; returns its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(lead_rows(rows, seed, invalid_rate, duplicate_rate))
    return path.stat().st_size


def verify(path: Path) -> dict[str, int]:
    """Count rows, invalid phones and duplicate numbers the way the importer judges them."""
    from crm.errors import DomainError
    from crm.leads.idcard import parse_id_number
    from crm.leads.phone import normalize_phone

    counts = {"rows": 0, "invalid_phone": 0, "duplicates": 0, "id_numbers": 0, "bad_ids": 0}
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            counts["rows"] += 1
            if row[2]:
                counts["id_numbers"] += 1
                try:
                    parse_id_number(row[2])
                except DomainError:
                    counts["bad_ids"] += 1
            try:
                e164 = normalize_phone(row[1]).e164
            except DomainError:
                counts["invalid_phone"] += 1
                continue
            counts["duplicates"] += e164 in seen
            seen.add(e164)
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/leads_1m.csv"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invalid-rate", type=float, default=0.03)
    parser.add_argument("--duplicate-rate", type=float, default=0.05)
    parser.add_argument("--verify", action="store_true", help="re-read and check the counts")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    size = write_sheet(args.out, args.rows, args.seed, args.invalid_rate, args.duplicate_rate)
    seconds = time.perf_counter() - start
    print(f"{'file':<16}{args.out}\n{'rows':<16}{args.rows:,}\n{'bytes':<16}{size:,}")
    print(f"{'seconds':<16}{seconds:.1f}")
    if args.verify:
        start = time.perf_counter()
        for key, value in verify(args.out).items():
            print(f"{key:<16}{value:,}")
        print(f"{'verify seconds':<16}{time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
