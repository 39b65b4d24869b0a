"""Made-up people for the demo's rosters and register: names, phones and valid ID numbers of the city's regions."""
from forms import idcard

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志强海燕晓东丹丹文博子涵浩然雨欣梓萱俊杰"
# The first six digits of an ID number issued in each district (阜阳市 and its counties; 市直 uses the city's).
REGION_CODES = {"YZ": "341202", "YD": "341203", "YQ": "341204", "LQ": "341221", "TH": "341222", "FN": "341225",
                "YS": "341226", "JS": "341282", "KFQ": "341271", "FH": "341272", "SZ": "341200"}


def person_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone_number(rng):
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def id_number(region, born, serial):
    """A valid 18-character ID number (GB 11643): region, birth date, a 3-digit serial and the check character.

    The serial's last digit gives the sex: odd for men, even for women.
    """
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    return first17 + idcard.check_character(first17)
