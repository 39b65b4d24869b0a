"""Messages the form layer gives people, in Chinese and English.

The form layer has no Flask and no Babel; it carries its own short table.
An English text that counts something is a pair (one, many), chosen by ``n``:
Chinese has one form for every number.
"""
MESSAGES = {
    "required": ("此项为必填项。", "This field is required."),
    "integer": ("请填写整数。", "Please enter a whole number."),
    "number": ("请填写数字。", "Please enter a number."),
    "date": ("请按 年-月-日 填写日期，例如 2017-03-05。", "Please enter a date as YYYY-MM-DD, e.g. 2017-03-05."),
    "datetime": ("请填写日期和时间，例如 2017-03-05 09:30。", "Please enter a date and time, e.g. 2017-03-05 09:30."),
    "boolean": ("请选择是或否。", "Please choose yes or no."),
    "min": ("不能小于 {min}。", "Must be at least {min}."),
    "max": ("不能大于 {max}。", "Must be at most {max}."),
    "min_length": ("至少 {n} 个字（已填 {got} 个）。", ("At least {n} character ({got} so far).", "At least {n} characters ({got} so far).")),
    "max_length": ("最多 {n} 个字（已填 {got} 个）。", ("At most {n} character ({got} given).", "At most {n} characters ({got} given).")),
    "email": ("电子邮箱格式不正确。", "This is not a valid e-mail address."),
    "phone": ("请填写 11 位手机号码或带区号的固定电话。", "Please enter an 11-digit mobile number or a landline with area code."),
    "id_shape": ("身份证号码应为 18 位，前 17 位为数字，最后一位为数字或 X。",
                 "An ID number has 18 characters: 17 digits and a final digit or X."),
    "id_birth": ("身份证号码中的出生日期不正确。", "The date of birth inside this ID number is not valid."),
    "id_check": ("身份证号码校验位不正确，请核对。", "The check character of this ID number is wrong; please check it."),
    "choice": ("请从列表中选择。", "Please choose from the list."),
    "min_count": ("至少选择 {n} 项。", "Choose at least {n}."),
    "max_count": ("最多选择 {n} 项。", "Choose at most {n}."),
    "min_rows": ("至少需要 {n} 行。", ("At least {n} row is needed.", "At least {n} rows are needed.")),
    "max_rows": ("最多 {n} 行（已有 {got} 行）。", ("At most {n} row ({got} given).", "At most {n} rows ({got} given).")),
    "unique": ("与第 {row} 行重复，同一名单中不能重复填写。", "The same as row {row}; each may appear only once in this list."),
    "min_files": ("至少上传 {n} 个文件。", ("Upload at least {n} file.", "Upload at least {n} files.")),
    "max_files": ("最多上传 {n} 个文件。", ("Upload at most {n} file.", "Upload at most {n} files.")),
    "file_empty": ("文件 {name} 是空的。", "The file {name} is empty."),
    "file_too_big": ("文件 {name} 超过 {limit}。", "The file {name} is larger than {limit}."),
    "file_type": ("文件 {name} 的内容不是允许的类型（{allowed}）。", "The content of {name} is not an allowed type ({allowed})."),
    "file_unknown": ("找不到已上传的文件，请重新上传。", "An uploaded file could not be found; please upload it again."),
    "image_bomb": ("图片像素过大，无法处理。", "The image has too many pixels to process."),
    "image_broken": ("图片已损坏或无法识别。", "The image is damaged or cannot be read."),
    "image_pixels": ("图片 {name} 的像素过多（{width}×{height}，约 {megapixels} 百万像素），上限为 {limit} 百万像素，"
                     "请缩小后重新上传。",
                     "The image {name} has too many pixels ({width}×{height}, about {megapixels} megapixels); "
                     "the limit is {limit} megapixels. Please make it smaller and upload it again."),
    "image_truncated": ("图片 {name} 不完整（文件被截断），请重新上传。",
                        "The image {name} is incomplete (the file was cut short); please upload it again."),
    "constraint": ("填写的内容不符合要求。", "This value does not meet the requirement."),
}


def message(key, language="zh", **params):
    zh, en = MESSAGES[key]
    if isinstance(en, tuple):
        en = en[0] if params.get("n") == 1 else en[1]
    text = en if language and language.startswith("en") else zh
    return text.format(**params) if params else text
