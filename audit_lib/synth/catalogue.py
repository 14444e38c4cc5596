"""The policy list the synthetic district is modelled on: 南开区's 2023 list of 27 items
(seed 000: departments and legal basis as published), with realistic units, frequencies and standards.

Amounts are yuan here; the generator holds fen. ``model`` says how a varying item's approved amounts are drawn:
("lognormal", median, sigma) for need-based top-ups, ("loguniform", low, high) for one-off aid that spans
orders of magnitude (which is what makes Benford's law apply to it). ``weight`` is the item's share of
approvals among items of its kind; ``pool`` is who can receive it.
"""
from __future__ import annotations

MZ = "区民政局"
QL = "区侨联"
CL = "区残联"
B_SA = "《天津市民政局天津市财政局关于调整社会救助范围和标准的通知》（津民规[2020]1号）等"
B_CL3 = "天津市残联 天津市财政局关于印发《天津市残疾人“三项补贴”管理办法》的通知（津残联〔2021〕57 号）"
B_CL_REWARD = "市残联市财政局关于修订《天津市促进残疾人奖励办法》的通知（津残联〔2022〕74 号）"
B_ONCE = ("《天津市财政局 天津市民政局关于下达2013年优抚对象及城乡困难群众一次性生活补贴补助资金的通知》"
          "津财预指〔2013〕62号")


def _item(code, name, dept, unit, freq, standard=None, max_amount=None, means=False, min_age=None,
          max_age=None, group=None, basis="", weight=1.0, pool="adult", model=None, pay_day=15,
          pay_month=None, disclosed=False, due_months=None, start_month=1):
    return dict(code=code, name=name, dept=dept, unit=unit, freq=freq, standard=standard, max=max_amount,
                means=means, min_age=min_age, max_age=max_age, group=group, basis=basis, weight=weight,
                pool=pool, model=model, pay_day=pay_day, pay_month=pay_month, disclosed=disclosed,
                due_months=due_months, start_month=start_month)


ITEMS = [
    _item("MZ001", "最低生活保障", MZ, "household", "monthly", None, None, True, group="SA", basis=B_SA,
          weight=14, pool="head", model=("lognormal", 1200, 0.30), pay_day=10, disclosed=True),
    _item("MZ002", "特困人员救助供养", MZ, "person", "monthly", 1515, None, True, group="SA", basis=B_SA,
          weight=3, pool="adult", pay_day=10, disclosed=True),
    _item("MZ003", "低收入家庭救助", MZ, "household", "monthly", None, 3000, True, group="SA", basis=B_SA,
          weight=5, pool="head", model=("lognormal", 500, 0.35), pay_day=10, disclosed=True),
    _item("MZ004", "困难老年人居家养老补贴", MZ, "person", "monthly", 200, None, True, min_age=80,
          basis="《天津市民政局关于做好我市80岁以上困难老年人居家养老服务政府补贴工作的实施意见》（津民发[2011]72号）等",
          weight=6, pool="elder", pay_day=12),
    _item("MZ005", "百岁老年人营养费补助", MZ, "person", "monthly", 500, None, False, min_age=100,
          basis="《关于调整百岁老人营养补助费标准的通知》（津老工委办发〔2015〕6号）", weight=0.3,
          pool="centenarian", pay_day=12),
    _item("MZ006", "困难残疾人生活补贴", MZ, "person", "monthly", 100, None, True,
          basis="《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）等",
          weight=8, pool="adult", pay_day=14),
    _item("MZ007", "重度残疾人护理补贴", MZ, "person", "monthly", 150, None, False,
          basis="《天津市民政局天津市财政局关于提高困难残疾人生活补贴和重度残疾人护理补贴标准的通知》（津民发〔2018〕17号）",
          weight=8, pool="adult", pay_day=14),
    _item("MZ008", "孤儿基本生活费", MZ, "person", "monthly", 2160, None, False, max_age=17, group="CH",
          basis="《天津市民政局 天津市财政局关于发放孤儿基本生活费的实施办法》津民发〔2011〕89号", weight=0.8,
          pool="child", pay_day=16),
    _item("MZ009", "事实无人抚养儿童补贴", MZ, "person", "monthly", 2160, None, False, max_age=17, group="CH",
          basis="《关于进一步加强事实无人抚养儿童保障工作的实施意见》（津民发）〔2019〕43号", weight=0.6,
          pool="child", pay_day=16),
    _item("MZ010", "副食品价格补贴", MZ, "person", "monthly", 22, None, True,
          basis="关于印发“天津市居民副食品价格补贴发放管理办法”的通知（津民计字[1993]66号）", weight=10,
          pool="adult", pay_day=18),
    _item("MZ011", "低保对象电价补贴", MZ, "household", "quarterly", 45, None, True,
          basis="《市发展改革委 市民政局关于我市对困难群体给予免费电量的通知》津发改价管〔2012〕1303号",
          weight=4, pool="head", pay_day=20),
    _item("MZ012", "低保特困低收入对象年终一次性补贴", MZ, "household", "one_off", 1000, None, True, basis=B_ONCE,
          weight=3, pool="head", pay_day=12, due_months=[12]),
    _item("MZ013", "低保特困低收入对象过节费", MZ, "household", "one_off", 500, None, True, basis=B_ONCE,
          weight=3, pool="head", pay_day=12, due_months=[1, 9]),
    _item("MZ014", "困境家庭儿童基本生活费", MZ, "person", "monthly", 1080, None, False, max_age=17, group="CH",
          basis="天津市民政局 天津市财政局关于发放困境家庭儿童基本生活费的通知（津民发〔2014〕61号）", weight=1,
          pool="child", pay_day=16),
    _item("MZ015", "社会救助对象物价补贴", MZ, "person", "monthly", 30, None, True,
          basis="《天津市人民政府关于进一步健全社会救助和保障标准与物价上涨挂钩联动机制的实施意见》（津政规〔2022〕1号）",
          weight=10, pool="adult", pay_day=18),
    _item("MZ016", "社会救助对象取暖补贴", MZ, "household", "annual", 1000, None, True,
          basis="《关于调整重点优抚对象和低收入家庭供热补贴政策有关问题的通知》（津民发〔2011〕70号）", weight=2,
          pool="head", pay_day=8, pay_month=11),
    _item("MZ017", "福彩圆梦·孤儿助学工程", MZ, "person", "annual", 10000, None, False, min_age=16,
          basis="《天津市“福彩圆梦·孤儿助学工程”项目实施暂行办法》（津民办发〔2019〕20号）", weight=0.2,
          pool="young", pay_day=10, pay_month=9),
    _item("MZ018", "社会救助对象临时性补贴", MZ, "person", "one_off", None, 100000, True,
          basis="《天津市财政局 天津市民政局关于下达困难群众一次性生活补贴资金的通知》（津财社指〔2022〕39号）",
          weight=6, pool="adult", model=("loguniform", 100, 100000), pay_day=22, due_months=list(range(1, 13))),
    _item("MZ019", "特困人员照料护理补贴", MZ, "person", "monthly", 300, None, True,
          basis="《 天津市民政局 天津市财政局关于建立特困人员照料护理补贴制度的通知》（津民发〔2017〕13号）",
          weight=2, pool="adult", pay_day=10),
    _item("QL020", "困难归侨侨眷帮扶救助补贴", QL, "person", "annual", None, 5000, True,
          basis="《中国侨联关于华侨事务预算专项经费使用管理的指导意见》（中侨厅〔2019〕28号）", weight=0.3,
          pool="adult", model=("lognormal", 2000, 0.30), pay_day=15, pay_month=6),
    _item("CL021", "残疾人居家托养服务补贴", CL, "person", "monthly", 200, None, False,
          basis="《天津市残疾人托养服务工作实施办法》（津残联〔2013〕247 号）等", weight=2, pool="adult",
          pay_day=20),
    _item("CL022", "困难残疾人家庭冬季取暖补贴", CL, "household", "annual", 600, None, True, basis=B_CL3,
          weight=1, pool="head", pay_day=15, pay_month=11),
    _item("CL023", "视力听力言语残疾人发放通讯信息消费补贴", CL, "person", "quarterly", 60, None, False,
          basis=B_CL3, weight=3, pool="adult", pay_day=25, start_month=7),
    _item("CL024", "低保低收入家庭残疾人生活用水、电、燃气补贴", CL, "person", "quarterly", 90, None, True,
          basis=B_CL3, weight=3, pool="adult", pay_day=20),
    _item("CL025", "个体工商户社会保险补贴", CL, "person", "annual", None, 20000, False, basis=B_CL_REWARD,
          weight=0.5, pool="adult", model=("lognormal", 6000, 0.25), pay_day=10, pay_month=3),
    _item("CL026", "残疾人自主创业补贴", CL, "person", "one_off", None, 50000, False, basis=B_CL_REWARD,
          weight=0.4, pool="adult", model=("lognormal", 5000, 0.30), pay_day=15, due_months=[4, 10]),
    _item("CL027", "残疾人教育扶残助学金", CL, "person", "annual", None, 10000, False, max_age=30,
          basis="《天津市残疾人教育扶残助学金管理实施办法》的通知（津残联〔2019〕10 号）", weight=0.4,
          pool="young", model=("lognormal", 3000, 0.25), pay_day=10, pay_month=9),
]

OFF_LIST_ITEM = _item("QT901", "其他生活困难补助", "区民政局", "person", "monthly", None, None, False,
                      pool="adult", model=("lognormal", 300, 0.2), pay_day=18)

# Partner banks and the first digits (BIN) of their debit card numbers.
BANKS = [("中国工商银行", "622202"), ("中国农业银行", "622848"), ("中国银行", "621661"),
         ("中国建设银行", "621700"), ("交通银行", "622262"), ("天津银行", "621069"), ("中国邮政储蓄银行", "621799")]

STREETS = ["长虹街道", "鼓楼街道", "兴南街道", "广开街道", "万兴街道", "学府街道", "向阳路街道", "嘉陵道街道",
           "王顶堤街道", "水上公园街道", "体育中心街道", "华苑街道"]

# Real GB/T 2260 county codes: where residents' identity numbers were issued.
REGIONS = ["120101", "120102", "120103", "120104", "120105", "120106", "120110", "120111", "120112",
           "120113", "130102", "130104", "370102", "370902", "410303", "410403", "110105", "320106"]

DISTRICTS = {"120104": "南开区", "120101": "和平区", "120102": "河东区", "120103": "河西区",
             "120105": "河北区", "120106": "红桥区", "370902": "泰山区", "410303": "西工区", "410403": "卫东区"}

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
                "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁琳晨欣"
             "怡佳雪梅淑珍凤兰建国国华德胜福荣海波振文志忠永庆春秋")

FAIL_REASONS = ["账户状态异常", "户名与账号不符", "账户已销户", "账户冻结", "账号不存在"]
GUARD_BASIS = ["民政部门指定监护", "人民法院指定监护", "村(居)委会指定监护"]
DEATH_SOURCES = ["公安", "民政", "殡葬", "卫健"]
EMPLOYERS = ["南开区某街道办事处", "南开区某中学", "南开区某医院", "南开区某局", "南开区某事业单位"]


SPECIAL_WORDS = ("最低生活", "低保", "特困", "残疾", "孤儿", "儿童", "低收入")


def is_special_group(item: dict) -> bool:
    """Items for the groups whose cards a guardian may lawfully hold (泰山区: 低保户、特困供养人员、残疾人、
    建档立卡贫困户、未成年人)."""
    return any(w in item["name"] for w in SPECIAL_WORDS) or item.get("pool") == "child"
