"""Jimeng (即梦) video in Volcengine's own format on POST /jimeng/: submit and get-result, told apart by the Action query."""
