module.exports = 'legacy'
