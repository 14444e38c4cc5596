"""The Chinese labels the report and the workpaper share: column names, statuses, severities, families, and
which columns hold identity numbers, names, accounts and money."""

ID_COLS = {"person_id", "holder_id", "account_holder_id", "guardian_id", "cadre_id", "counterparty_id"}
NAME_COLS = {"name", "account_holder_name"}
ACCOUNT_COLS = {"account_no", "bank_account", "counterparty_account"}
STATUS_ZH = {"flagged": "发现疑点", "clear": "未发现", "skipped": "未执行", "error": "出错", "info": "信息"}
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低", "info": "信息"}
FAMILY_ZH = {"reconciliation": "对账", "compliance": "合规", "eligibility": "资格", "statistics": "统计分析"}
COL_ZH = {"payment_id": "流水号", "person_id": "身份证号", "name": "姓名", "item_code": "项目编码", "period": "所属期",
          "amount": "金额", "amount_fen": "涉及金额", "pay_date": "发放日期", "account_no": "收款账号",
          "holder_id": "账户持有人", "problem": "问题", "expected": "应发金额", "reason": "原因", "key": "键",
          "death_date": "死亡日期", "days_late": "延迟天数", "card_status": "卡状态", "age": "年龄",
          "employer": "工作单位", "channel": "渠道", "masked_id": "身份证号（脱敏）", "fee": "手续费",
          "community": "社区村", "position": "职务", "cadre_id": "干部身份证号", "z": "稳健Z值", "mad": "MAD",
          "p_value": "p值", "n": "笔数", "count": "笔数"}
COL_ZH.update({"txn_ids": "交易流水（全部）", "terminal_id": "终端或网点", "txns": "交易笔数", "dates": "日期", "times": "时间",
               "moved": "转出金额", "transfers": "转出笔数", "receivers": "收款人", "credit_day": "入账日",
               "credit_date": "入账日期", "guardian_id": "监护人", "basis": "依据", "valid_from": "生效日期",
               "valid_to": "失效日期", "published_date": "公示日期", "disbursed": "拨付代发银行", "credited": "银行入账", "returned": "退回", "difference": "差额",
               "idle_since": "闲置起始日", "idle_amount": "闲置金额", "bank_account": "银行入账账号",
               "approved_amount": "核定金额", "max_amount": "上限", "amount_paid": "实发金额",
               "amount_disclosed": "公示金额", "reissued_on": "补发日期", "credited_amount": "入账金额",
               "accounts": "账户数", "people": "人数", "households": "户数", "share": "社保卡占比", "target": "目标",
               "total": "成功发放金额", "card": "社保卡发放金额", "first_paid": "首次发放日", "lines": "笔数",
               "published_date": "公开日期", "policy_effective_date": "实施日期", "days": "天数",
               "item_name": "项目名称", "tables": "所在数据表", "min_age": "年龄下限", "max_age": "年龄上限",
               "start_date": "起始日期", "end_date": "终止日期", "items": "项目", "codes": "项目", "districts": "区县",
               "exclusive_group": "互斥组", "median_count": "中位笔数", "median_amount": "中位金额"})

MONEY_COLS = {"amount", "amount_fen", "expected", "fee", "credited", "credited_amount", "approved_amount",
              "amount_paid", "amount_disclosed", "max_amount", "median_amount", "disbursed", "returned",
              "difference", "idle_amount", "total", "card", "moved"}
