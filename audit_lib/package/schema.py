"""data-package.md as data: the tables, their columns, Chinese aliases, types and enumerations.

Nothing here reads a file; load.py applies these definitions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Column types: id (18-character identity number, text), str, int, money (yuan in, fen held), date,
# period (YYYY-MM), bool, enum.


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: str
    required: bool = True          # the header must be present
    nonnull: bool = False          # an empty value quarantines the row
    enum: str | None = None        # name of the enumeration in ENUMS
    unique: bool = False           # a repeated value quarantines the later rows


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    required: bool
    columns: tuple[Column, ...]
    registry: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)  # other Chinese names seen in exports
    header_aliases: tuple[tuple[str, str], ...] = ()  # (header as the export writes it, column) from package.yaml

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def C(name, zh, type_, required=True, nonnull=None, enum=None, unique=False):
    if nonnull is None:
        # Typed required values must be present; free text (names, banks) may be empty.
        nonnull = required and type_ not in ("str",)
    return Column(name, zh, type_, required, nonnull, enum, unique)


# Enumerations: canonical English value -> accepted spellings (matched after NFKC, trim, lower-case).
ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "unit": {"person": ("个人", "人", "按人"), "household": ("家庭", "户", "按户")},
    "frequency": {
        "monthly": ("月", "按月", "每月", "月度"),
        "quarterly": ("季", "按季", "季度", "每季"),
        "annual": ("年", "按年", "年度", "每年", "yearly"),
        "one_off": ("一次性", "one-off", "oneoff", "once"),
    },
    "channel": {
        "card": ("社保卡", "社会保障卡"),
        "bank_card": ("其他银行卡", "银行卡"),
        "passbook": ("存折",),
        "cash": ("现金",),
    },
    "pay_status": {"success": ("成功", "发放成功"), "failed": ("失败", "发放失败", "fail")},
    "credit_status": {"success": ("成功", "入账成功"), "failed": ("失败", "入账失败", "fail")},
    "card_status": {
        "normal": ("正常",),
        "inactive": ("未激活",),
        "lost": ("挂失",),
        "cancelled": ("注销", "canceled"),
        "not_issued": ("未制卡",),
    },
    "txn_type": {
        "withdrawal": ("取现", "取款", "现金支取"),
        "transfer_out": ("转出", "转账转出", "transfer"),
        "purchase": ("消费", "刷卡消费", "pos消费"),
    },
    "txn_channel": {
        "atm": ("ATM", "自助取款机", "取款机"),
        "counter": ("柜面", "柜台"),
        "pos": ("POS", "pos机"),
        "online": ("网银手机银行", "网银", "手机银行", "网上银行"),
    },
    "flow_type": {
        "allocated": ("下达",),
        "disbursed": ("拨付代发银行", "拨付"),
        "returned": ("退回",),
    },
}

TABLES: tuple[Table, ...] = (
    Table("policy_items", "政策清单", True, (
        C("item_code", "项目编码", "str", nonnull=True, unique=True),
        C("item_name", "项目名称", "str"),
        C("department", "主管部门", "str"),
        C("in_one_card", "是否纳入一卡通", "bool"),
        C("unit", "发放对象", "enum", enum="unit"),
        C("frequency", "发放周期", "enum", enum="frequency"),
        C("standard_amount", "补贴标准", "money", required=False),
        C("max_amount", "上限", "money", required=False),
        C("means_tested", "困难救助类", "bool", required=False),
        C("min_age", "年龄下限", "int", required=False),
        C("max_age", "年龄上限", "int", required=False),
        C("exclusive_group", "互斥组", "str", required=False),
        C("legal_basis", "政策依据", "str", required=False),
        C("policy_effective_date", "政策实施日期", "date", required=False),
        C("published_date", "公开日期", "date", required=False),
        C("special_group", "特殊群体项目", "bool", required=False),
        C("disclose_before_pay", "先公示后发放", "bool", required=False),
    ), aliases=("政策清单", "补贴项目清单")),
    Table("beneficiaries", "补贴对象", True, (
        C("person_id", "身份证号", "id"),
        C("name", "姓名", "str"),
        C("household_id", "户编号", "str"),
        C("is_household_head", "是否户主", "bool"),
        C("item_code", "项目编码", "str", nonnull=True),
        C("approved_amount", "核定金额", "money"),
        C("start_period", "起始期", "period"),
        C("end_period", "终止期", "period", required=False),
        C("street", "街道乡镇", "str", required=False),
        C("community", "社区村", "str", required=False),
        C("approval_date", "审批日期", "date", required=False),
        C("designated_account_no", "家庭指定账户", "str", required=False),
    )),
    Table("payments", "发放明细", True, (
        C("payment_id", "流水号", "str", nonnull=True, unique=True),
        C("batch_id", "批次号", "str"),
        C("item_code", "项目编码", "str", nonnull=True),
        C("period", "所属期", "period"),
        C("person_id", "身份证号", "id"),
        C("name", "姓名", "str"),
        C("channel", "发放渠道", "enum", enum="channel"),
        C("account_no", "收款账号", "str", nonnull=True),
        C("account_holder_id", "账户持有人身份证号", "id", required=False),
        C("account_holder_name", "户名", "str", required=False),
        C("bank", "代发银行", "str"),
        C("amount", "发放金额", "money"),
        C("pay_date", "发放日期", "date"),
        C("status", "发放状态", "enum", enum="pay_status"),
        C("fail_reason", "失败原因", "str", required=False),
        C("reissue_of", "补发原流水号", "str", required=False),
    )),
    Table("cards", "社保卡", True, (
        C("person_id", "身份证号", "id"),
        C("card_no", "社保卡号", "str"),
        C("bank", "合作银行", "str"),
        C("account_no", "金融账号", "str"),          # empty for a card not yet issued (未制卡)
        C("status", "卡状态", "enum", enum="card_status"),
        C("status_date", "状态日期", "date", required=False),
        C("activated_date", "激活日期", "date", required=False),
    )),
    Table("bank_returns", "银行回盘", False, (
        C("payment_id", "流水号", "str", nonnull=True),
        C("account_no", "收款账号", "str"),
        C("credited_amount", "入账金额", "money"),
        C("credit_date", "入账日期", "date", nonnull=False),
        C("status", "入账状态", "enum", enum="credit_status"),
        C("fee", "手续费", "money", required=False),
    )),
    Table("fund_flows", "资金拨付", False, (
        C("item_code", "项目编码", "str", nonnull=True),
        C("flow_type", "类型", "enum", enum="flow_type"),
        C("amount", "金额", "money"),
        C("date", "日期", "date"),
        C("level", "资金级次", "str", required=False),
        C("doc_no", "文号", "str", required=False),
    )),
    Table("disclosures", "公示", False, (
        C("item_code", "项目编码", "str", nonnull=True),
        C("period", "所属期", "period"),
        # Usually masked (120104********123X), so not validated as an identity number; a trailing x becomes X
        # as in every identity column.
        C("person_id", "身份证号", "masked_id", nonnull=True),
        C("name", "姓名", "str"),
        C("amount", "金额", "money"),
        C("published_date", "公示日期", "date", nonnull=False),
        C("community", "社区村", "str", required=False),
    )),
    Table("deaths", "死亡人员", False, (
        C("person_id", "身份证号", "id"),
        C("name", "姓名", "str"),
        C("death_date", "死亡日期", "date"),
        C("source", "来源", "str", required=False),
    ), registry=True),
    Table("public_employees", "财政供养人员", False, (
        C("person_id", "身份证号", "id"),
        C("name", "姓名", "str"),
        C("employer", "工作单位", "str"),
        C("start_date", "入职日期", "date"),
        C("end_date", "离职日期", "date", required=False),
    ), registry=True),
    Table("cadres", "村社区干部", False, (
        C("person_id", "身份证号", "id"),
        C("name", "姓名", "str"),
        C("community", "社区村", "str"),
        C("position", "职务", "str"),
        C("start_date", "任职日期", "date", required=False),
        C("end_date", "离任日期", "date", required=False),
    ), registry=True),
    Table("households", "户籍", False, (
        C("person_id", "身份证号", "id"),
        C("name", "姓名", "str"),
        C("household_id", "户编号", "str", nonnull=True),
        C("relation", "与户主关系", "str"),
        C("birth_date", "出生日期", "date", required=False),
    ), registry=True),
    Table("guardianships", "代管代持登记", False, (
        C("person_id", "身份证号", "id"),
        C("guardian_id", "监护人身份证号", "id"),
        C("account_no", "收款账号", "str"),
        C("basis", "依据", "str"),
        C("valid_from", "生效日期", "date"),
        C("valid_to", "失效日期", "date", required=False),
    ), registry=True),
    Table("card_transactions", "账户交易明细", False, (
        C("txn_id", "交易流水号", "str", nonnull=True, unique=True),
        C("account_no", "金融账号", "str", nonnull=True),
        C("txn_time", "交易时间", "datetime"),
        C("txn_type", "交易类型", "enum", enum="txn_type"),
        C("channel", "渠道", "enum", enum="txn_channel"),
        C("terminal_id", "终端或网点编号", "str"),          # empty for online
        C("amount", "金额", "money"),
        C("counterparty_account", "对方账号", "str", required=False),
        C("counterparty_id", "对方身份证号", "id", required=False),
        C("counterparty_name", "对方户名", "str", required=False),
    ), aliases=("账户交易明细", "交易明细")),
)

TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
FILE_EXTENSIONS = (".csv", ".xlsx", ".parquet")
